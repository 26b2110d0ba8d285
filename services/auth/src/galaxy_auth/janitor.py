"""Background worker: deletes rows that no longer count for anything.

- Login challenges: a challenge is dead once it expired; it still counts
  toward its address's rate limit until its creation leaves the window. Rows
  that expired more than a window ago are past both.
- Per-address request records (the rate limit): an address with no request
  inside the window is under its limit whether its row exists or not.
- Admin check attempts: they count toward the throttle only within its window.

Deleting them changes no answer. Every replica may run it: the DELETEs are
idempotent.
"""

from __future__ import annotations

from datetime import timedelta

from galaxy_kit.db import transaction
from galaxy_kit.logging import get_logger
from galaxy_kit.workers import PeriodicWorker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.repository import admin_throttle as throttle_repo
from galaxy_auth.repository import challenges as challenge_repo

log = get_logger(__name__)

INTERVAL_SECONDS = 300.0


class Janitor(PeriodicWorker):
    failure_event = "janitor_sweep_failed"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        challenges_keep_for: timedelta,
        attempts_keep_for: timedelta,
        interval_seconds: float = INTERVAL_SECONDS,
    ) -> None:
        super().__init__(interval=interval_seconds)
        self._sessions = sessions
        self._challenges_keep_for = challenges_keep_for
        self._attempts_keep_for = attempts_keep_for

    async def sweep(self) -> dict[str, int]:
        """Rows deleted, per table."""
        async with transaction(self._sessions) as session:
            challenges = await challenge_repo.delete_stale(session, older_than=self._challenges_keep_for)
            requests = await challenge_repo.delete_stale_requests(session, older_than=self._challenges_keep_for)
            attempts = await throttle_repo.delete_stale(session, older_than=self._attempts_keep_for)
        return {"login_challenges": challenges, "login_code_requests": requests, "admin_check_attempts": attempts}

    async def run_once(self) -> None:
        deleted = await self.sweep()
        if any(deleted.values()):
            log.info("stale_rows_deleted", **deleted)
