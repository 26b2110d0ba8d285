"""Background worker: deletes login challenges that no longer count for anything.

A challenge is dead once it expired; it still counts toward its address's rate
limit until its creation leaves the window. Rows that expired more than a
window ago are past both, so deleting them changes no answer. Every replica
may run it: the DELETE is idempotent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from galaxy_kit.db import transaction
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.repository import challenges as repo

log = get_logger(__name__)

INTERVAL_SECONDS = 300.0


class ChallengeJanitor:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, keep_for: timedelta,
        interval_seconds: float = INTERVAL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._keep_for = keep_for
        self._interval = interval_seconds
        self._stopped = asyncio.Event()

    async def sweep(self) -> int:
        async with transaction(self._sessions) as session:
            return await repo.delete_stale(session, older_than=self._keep_for)

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                deleted = await self.sweep()
                if deleted:
                    log.info("login_challenges_deleted", count=deleted)
            except Exception:  # a database hiccup must not kill the service; try again next round
                log.exception("login_challenge_sweep_failed")
            try:
                await asyncio.wait_for(self._stopped.wait(), timeout=self._interval)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopped.set()
