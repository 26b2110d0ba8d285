"""galaxy_kit.coalesce.Coalescer: a lone item goes at once, items arriving during a call go together next."""

from __future__ import annotations

import asyncio

from galaxy_kit.coalesce import Coalescer


class Recorder:
    """A handler whose calls block until released, so a test decides what arrives during a call."""

    def __init__(self, *, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.fail_on = fail_on

    async def __call__(self, batch: list[int]) -> None:
        self.batches.append(batch)
        self.entered.set()
        await self.release.wait()
        if self.fail_on is not None and self.fail_on in batch:
            raise RuntimeError("the downstream refused")


async def test_a_lone_item_is_handled_at_once_and_the_rest_wait_for_one_next_call():
    handler = Recorder()
    coalescer = Coalescer(handler, name="test")
    coalescer.submit(1)
    await asyncio.wait_for(handler.entered.wait(), 1)
    assert handler.batches == [[1]]  # not held back waiting for company
    for item in (2, 3, 4):
        coalescer.submit(item)
    await asyncio.sleep(0.01)
    assert handler.batches == [[1]]  # one call at a time
    handler.release.set()
    await coalescer.idle(1)
    assert handler.batches == [[1], [2, 3, 4]]


async def test_max_batch_splits_what_waited():
    handler = Recorder()
    coalescer = Coalescer(handler, name="test", max_batch=2)
    coalescer.submit(0)
    await asyncio.wait_for(handler.entered.wait(), 1)
    for item in range(1, 6):
        coalescer.submit(item)
    handler.release.set()
    await coalescer.idle(1)
    assert handler.batches == [[0], [1, 2], [3, 4], [5]]


async def test_a_failing_call_does_not_stop_the_next_and_a_later_submit_starts_again():
    handler = Recorder(fail_on=1)
    coalescer = Coalescer(handler, name="test")
    coalescer.submit(1)
    await asyncio.wait_for(handler.entered.wait(), 1)
    coalescer.submit(2)
    handler.release.set()
    await coalescer.idle(1)
    assert handler.batches == [[1], [2]]
    coalescer.submit(3)  # idle again: a new call starts
    await coalescer.idle(1)
    assert handler.batches == [[1], [2], [3]]
