"""galaxy_kit.workers.PeriodicWorker: rounds at the interval, a failed round does not end the worker."""

from __future__ import annotations

import asyncio
import time

import pytest
from galaxy_kit.workers import PeriodicWorker


class Flaky(PeriodicWorker):
    def __init__(self) -> None:
        super().__init__(interval=0.05)
        self.rounds = 0

    async def run_once(self) -> None:
        self.rounds += 1
        if self.rounds == 2:
            raise RuntimeError("the database is away")


async def test_a_failed_round_is_followed_by_the_next_and_stop_ends_the_wait_at_once() -> None:
    worker = Flaky()
    task = asyncio.create_task(worker.run())
    deadline = time.monotonic() + 30
    while worker.rounds < 4:
        assert time.monotonic() < deadline, "the worker stopped after its failed round"
        await asyncio.sleep(0.01)
    worker.interval = 3600  # the next wait would be an hour: stop must not wait for it
    await asyncio.sleep(0.1)
    began = time.monotonic()
    await worker.stop()
    await asyncio.wait_for(task, timeout=5)
    assert time.monotonic() - began < 5
    assert task.exception() is None


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PeriodicWorker(interval=0)
