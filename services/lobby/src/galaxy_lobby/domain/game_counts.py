"""Keeps lobby.game_counts small: the lists' totals sum its rows (repository/tables.py, game_counts)."""

from __future__ import annotations

from galaxy_kit.db import transaction
from galaxy_kit.workers import PeriodicWorker

from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.repository import games as repo

#: Between two folds every game created or moved adds a row; at this pace the table stays at a few
#: dozen rows unless games change faster than tens per second, and a total sums them in microseconds.
COMPACT_INTERVAL_SECONDS = 5.0


async def compact(deps: Deps) -> None:
    async with transaction(deps.sessions) as session:
        await repo.compact_counts(session)


class GameCountCompactor(PeriodicWorker):
    """A background worker: fold game_counts' deltas every `interval` seconds, first right after start.

    Any number of replicas may run it at once (repository/games.compact_counts says why). A failed
    fold is retried at the next interval; totals stay exact meanwhile, only slower to sum.
    """

    failure_event = "game_count_compaction_failed"

    def __init__(self, deps: Deps, *, interval: float = COMPACT_INTERVAL_SECONDS) -> None:
        super().__init__(interval=interval)
        self._deps = deps

    async def run_once(self) -> None:
        await compact(self._deps)
