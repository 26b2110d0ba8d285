"""The public-game scheduler: public games move on their own (docs/lobby.md, "Public games").

`decide()` is the rule, a pure function of the game, its active member count and `now`.
`tick()` applies it to the games that are due, locked with SKIP LOCKED (several lobby replicas
share the work; a game is never moved by two at once, and machine.move re-checks every move),
commits, and only then asks runtime to start the games it moved to `starting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from galaxy_kit.db import transaction
from galaxy_kit.logging import get_logger
from galaxy_kit.workers import PeriodicWorker
from sqlalchemy.engine import Row

from galaxy_lobby.domain import games as games_domain
from galaxy_lobby.domain import machine
from galaxy_lobby.domain.actors import Actor
from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.domain.vocabulary import GameStatus
from galaxy_lobby.repository import enrolment as enrolment_repo
from galaxy_lobby.repository import games as games_repo

log = get_logger(__name__)

S = GameStatus
ACTOR = Actor.system("public_game_scheduler")
#: A game moves at most this many times in one tick (enrollment_open -> ready_to_start -> starting).
MAX_STEPS = 3


def decide(game: Row, active: int, now: datetime) -> tuple[GameStatus, str] | None:
    """The next status of a public enrolling game, and why; None while it waits."""
    ended = now >= game.enrollment_ends_at
    if game.status == S.ENROLLMENT_OPEN:
        if active >= game.min_players:
            return S.READY_TO_START, "quorum_reached"
        if ended:
            return S.CANCELLED, "enrollment_ended_without_quorum"
        return None
    if game.status != S.READY_TO_START:
        return None
    if active < game.min_players:
        return (S.CANCELLED, "enrollment_ended_without_quorum") if ended else (S.ENROLLMENT_OPEN, "quorum_lost")
    if active >= game.max_players:
        return S.STARTING, "full"
    if game.start_gap_players > 0 and active >= game.min_players + game.start_gap_players:
        return S.STARTING, "start_gap_players_reached"
    quorum_at = game.quorum_at or now
    if game.start_gap_hours > 0 and now >= quorum_at + timedelta(hours=game.start_gap_hours):
        return S.STARTING, "start_gap_hours_elapsed"
    if ended:
        return S.STARTING, "enrollment_ended"
    return None


@dataclass
class TickResult:
    moved: list[tuple[str, str, str]]  # (game_id, to, why)
    started: list[games_domain.StateChange]


async def tick(deps: Deps, *, now: datetime, batch: int = 100) -> TickResult:
    moved: list[tuple[str, str, str]] = []
    to_start: list[tuple[Row, list[Row]]] = []
    async with transaction(deps.sessions) as session:
        for row in await games_repo.public_due(session, now=now, limit=batch):
            game, active = row, int(row.active_members)
            for _ in range(MAX_STEPS):
                step = decide(game, active, now)
                if step is None:
                    break
                to, why = step
                game = await machine.move(session, game, to, actor=ACTOR, reason=why, now=now)
                moved.append((str(game.game_id), str(to), why))
                if to == S.STARTING:
                    to_start.append((game, await enrolment_repo.active_roster(session, game.game_id)))
                    break
    started = [await games_domain.ask_runtime_to_start(deps, game, roster, now=now) for game, roster in to_start]
    if moved:
        log.info("public_games_moved", moves=moved)
    return TickResult(moved, started)


class PublicGameScheduler(PeriodicWorker):
    """A background worker: `tick()` every `interval` seconds with the wall clock as `now`."""

    failure_event = "public_game_scheduler_tick_failed"

    def __init__(self, deps: Deps, *, interval: float, batch: int = 100) -> None:
        super().__init__(interval=interval)
        self._deps = deps
        self._batch = batch

    async def run_once(self) -> TickResult:
        return await tick(self._deps, now=datetime.now(UTC), batch=self._batch)
