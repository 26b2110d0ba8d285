"""A background worker that does one round of work every `interval` seconds until stopped.

The shape every periodic job of the services shares (retention, lobby's count
compaction and public-game scheduler, auth's janitor): a round right after
start, then one per interval; a round that fails (the database away, a bug) is
logged and the next round tries again, so a transient outage never kills the
service; `stop()` ends the wait at once. A subclass implements `run_once`.
"""

from __future__ import annotations

import asyncio
import contextlib

from galaxy_kit.logging import get_logger

log = get_logger(__name__)


class PeriodicWorker:
    #: The log event of a failed round (with the traceback).
    failure_event = "periodic_round_failed"

    def __init__(self, *, interval: float) -> None:
        if interval <= 0:
            raise ValueError("a periodic worker needs a positive interval")
        self.interval = interval
        self._stopping = asyncio.Event()

    async def run_once(self) -> object:
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # retried at the next round; the service stays up
                log.exception(self.failure_event, worker=type(self).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

    async def stop(self) -> None:
        self._stopping.set()
