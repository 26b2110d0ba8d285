"""One call at a time, carrying everything that arrived while the previous one ran.

Under load a per-item remote call or statement (a code handed to mail, an
address checked with account, a row deleted) costs more in call overhead than
in work. A `Coalescer` turns those into batches without adding latency: the
first item of a quiet moment is handled at once, alone; items submitted while a
call is under way wait for it and then go together in the next one (at most
`max_batch` per call). Nothing waits on a timer, so a lone item is never
delayed and a busy one gets batches exactly as large as the load makes them.

The handler owns its failures: it gets the batch and must settle every item
(answer its future, schedule a retry, log). An exception escaping it is logged
and the next batch still runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from galaxy_kit.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")


class Coalescer(Generic[T]):
    def __init__(self, handle: Callable[[list[T]], Awaitable[object]], *, name: str,
                 max_batch: int | None = None) -> None:
        if max_batch is not None and max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._handle = handle
        self._name = name
        self._max_batch = max_batch
        self._waiting: list[T] = []
        self._running: asyncio.Task[None] | None = None

    def submit(self, item: T) -> None:
        """Queue `item` for the next call; start one now if none is under way."""
        self._waiting.append(item)
        if self._running is None:
            self._running = asyncio.create_task(self._run(), name=f"coalesce {self._name}")

    async def idle(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the call under way and what is queued behind it."""
        if self._running is not None:
            await asyncio.wait([self._running], timeout=timeout)

    async def _run(self) -> None:
        try:
            while self._waiting:
                if self._max_batch is None or len(self._waiting) <= self._max_batch:
                    batch, self._waiting = self._waiting, []
                else:
                    batch = self._waiting[: self._max_batch]
                    del self._waiting[: self._max_batch]
                try:
                    await self._handle(batch)
                except Exception:  # noqa: BLE001 - the handler settles its items; the next batch still runs
                    log.exception("coalesced_call_failed", coalescer=self._name, count=len(batch))
        finally:
            self._running = None
