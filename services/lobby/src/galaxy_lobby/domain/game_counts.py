"""Keeps lobby.game_counts small: the lists' totals sum its rows (repository/tables.py, game_counts)."""

from __future__ import annotations

import asyncio

from galaxy_kit.db import transaction
from galaxy_kit.logging import get_logger

from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.repository import games as repo

log = get_logger(__name__)

#: Between two folds every game created or moved adds a row; at this pace the table stays at a few
#: dozen rows unless games change faster than tens per second, and a total sums them in microseconds.
COMPACT_INTERVAL_SECONDS = 5.0


async def compact(deps: Deps) -> None:
    async with transaction(deps.sessions) as session:
        await repo.compact_counts(session)


class GameCountCompactor:
    """A background worker: fold game_counts' deltas every `interval` seconds, first right after start.

    Any number of replicas may run it at once (repository/games.compact_counts says why).
    """

    def __init__(self, deps: Deps, *, interval: float = COMPACT_INTERVAL_SECONDS) -> None:
        self._deps = deps
        self._interval = interval
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await compact(self._deps)
            except Exception:  # retried at the next interval; totals stay exact meanwhile, only slower
                log.exception("game_count_compaction_failed")
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopping.set()
