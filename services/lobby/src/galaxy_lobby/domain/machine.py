"""The game state machine: one transition table, one guard, effects keyed on (from, to).

`move()` is the only code that assigns `games.status`. A move the table does not allow raises
Conflict naming both states (409, nothing changed: the caller's transaction rolls back). Each
move writes a `game_transitions` row (who, from, to, when, why) and its effects — column values,
notification intents, race-name changes — in the caller's transaction. The table is documented in
docs/lobby.md ("The state machine"); keep both in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from galaxy_kit.errors import Conflict
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain import notify
from galaxy_lobby.domain.actors import Actor
from galaxy_lobby.domain.vocabulary import ApplicationStatus, GameStatus, NotifyKind
from galaxy_lobby.repository import enrolment as enrolment_repo
from galaxy_lobby.repository import games as games_repo
from galaxy_lobby.repository import race_names as race_names_repo

S = GameStatus

#: Every allowed move. Who may ask for it (owner, admin, runtime, scheduler) is the operation's
#: rule (domain/games.py); what happens is _EFFECTS below.
TRANSITIONS: dict[GameStatus, frozenset[GameStatus]] = {
    S.DRAFT: frozenset({S.ENROLLMENT_OPEN, S.CANCELLED}),
    S.ENROLLMENT_OPEN: frozenset({S.READY_TO_START, S.STARTING, S.CANCELLED}),
    S.READY_TO_START: frozenset({S.STARTING, S.ENROLLMENT_OPEN, S.CANCELLED}),
    S.STARTING: frozenset({S.RUNNING, S.START_FAILED, S.CANCELLED}),
    S.START_FAILED: frozenset({S.STARTING, S.CANCELLED}),
    S.RUNNING: frozenset({S.PAUSED, S.FINISHED}),
    S.PAUSED: frozenset({S.RUNNING, S.FINISHED}),
    S.FINISHED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Moves that need min_players active members at the moment they happen.
_NEEDS_QUORUM = frozenset({S.READY_TO_START, S.STARTING})

#: What lobby says about the runtime until runtime's own status events say more.
RUNTIME_NOT_STARTED = "not_started"
RUNTIME_START_REQUESTED = "start_requested"
RUNTIME_START_FAILED = "start_failed"
RUNTIME_STOPPED = "stopped"

#: How long the players of a finished game may register the race names they played under.
PENDING_REGISTRATION_FOR = timedelta(days=30)


class Move:
    """One move in progress: the game before it, the actor, the time; effects add column values."""

    def __init__(self, game: Row, to: GameStatus, actor: Actor, reason: str, now: datetime) -> None:
        self.game = game
        self.from_ = GameStatus(game.status)
        self.to = to
        self.actor = actor
        self.reason = reason
        self.now = now
        self.values: dict[str, object] = {}


Effect = Callable[[AsyncSession, Move], Awaitable[None]]


def check(status: str, to: GameStatus, only_from: frozenset[GameStatus] | None = None) -> None:
    """Conflict unless the table allows status -> to (and, for an operation that names its
    source states, status is one of them): `start` moves only a ready game, `retry-start` only a
    failed one, though both lead to `starting`."""
    from_ = GameStatus(status)
    if to not in TRANSITIONS[from_] or (only_from is not None and from_ not in only_from):
        raise Conflict(f"the game cannot move from {from_} to {to}")


async def move(
    session: AsyncSession, game: Row, to: GameStatus, *, actor: Actor, reason: str, now: datetime,
    only_from: frozenset[GameStatus] | None = None,
) -> Row:
    """Move a game (its row locked by the caller) to `to`; the updated row."""
    check(game.status, to, only_from)
    step = Move(game, to, actor, reason, now)
    if to in _NEEDS_QUORUM:
        active = await games_repo.active_member_count(session, game.game_id)
        if active < game.min_players:
            raise Conflict(
                f"the game cannot move from {step.from_} to {to}: it needs {game.min_players} active "
                f"members and has {active}"
            )
    for key in ((step.from_, to), (None, to)):
        for effect in _EFFECTS.get(key, ()):
            await effect(session, step)
    updated = await games_repo.update(session, game.game_id, status=to, updated_at=now, **step.values)
    await games_repo.record_transition(
        session, game_id=game.game_id, from_status=step.from_, to_status=to, actor_kind=actor.kind,
        actor_id=actor.id, reason=reason, at=now,
    )
    return updated


async def record_creation(session: AsyncSession, game_id: uuid.UUID, status: GameStatus, *, actor: Actor,
                          now: datetime) -> None:
    await games_repo.record_transition(session, game_id=game_id, from_status=None, to_status=status,
                                       actor_kind=actor.kind, actor_id=actor.id, reason="created", at=now)


# ---- effects ----


async def _people(session: AsyncSession, game: Row) -> list[uuid.UUID]:
    """Who hears about the game: its owner and its active members."""
    members = await enrolment_repo.active_member_ids(session, game.game_id)
    return [game.owner_user_id, *members] if game.owner_user_id else members


def _announce(kind: NotifyKind) -> Effect:
    async def announce(session: AsyncSession, step: Move) -> None:
        await notify.intend(
            session, kind=kind, recipients=await _people(session, step.game), now=step.now,
            params={"game_id": step.game.game_id, "game_name": step.game.game_name, "status": step.to,
                    "reason": step.reason},
        )
    return announce


async def _runtime_requested(session: AsyncSession, step: Move) -> None:
    step.values["runtime_status"] = RUNTIME_START_REQUESTED


async def _runtime_failed(session: AsyncSession, step: Move) -> None:
    step.values["runtime_status"] = RUNTIME_START_FAILED


async def _quorum_reached(session: AsyncSession, step: Move) -> None:
    if step.game.quorum_at is None:
        step.values["quorum_at"] = step.now


async def _started(session: AsyncSession, step: Move) -> None:
    step.values["started_at"] = step.now


async def _finished(session: AsyncSession, step: Move) -> None:
    step.values["finished_at"] = step.now
    if step.values.get("runtime_status") is None and step.game.runtime_status != "finished":
        step.values["runtime_status"] = RUNTIME_STOPPED
    # The names played in the game become registrable by their players for a while.
    await race_names_repo.make_registrable(session, step.game.game_id, until=step.now + PENDING_REGISTRATION_FOR)


async def _cancelled(session: AsyncSession, step: Move) -> None:
    game_id = step.game.game_id
    if step.from_ in (S.STARTING, S.START_FAILED):
        step.values["runtime_status"] = RUNTIME_STOPPED
    pending = await enrolment_repo.reject_pending_of_game(session, game_id, now=step.now, by=step.actor.label)
    for applicant, application_id in pending:
        await notify.intend(
            session, kind=NotifyKind.APPLICATION_DECIDED, recipients=[applicant], now=step.now,
            params={"game_id": game_id, "game_name": step.game.game_name, "application_id": application_id,
                    "decision": ApplicationStatus.REJECTED, "reason": "game_cancelled"},
        )
    await enrolment_repo.revoke_pending_of_game(session, game_id, step.now)
    await race_names_repo.release_game(session, game_id)


#: Effects by (from, to); a `None` from applies to every move into `to`. Effects run before the
#: status is written, so they see the game as it was.
_EFFECTS: dict[tuple[GameStatus | None, GameStatus], tuple[Effect, ...]] = {
    (None, S.READY_TO_START): (_quorum_reached,),
    (None, S.STARTING): (_runtime_requested,),
    (None, S.START_FAILED): (_runtime_failed,),
    (S.STARTING, S.RUNNING): (_started, _announce(NotifyKind.GAME_STARTED)),
    (S.RUNNING, S.PAUSED): (_announce(NotifyKind.GAME_PAUSED),),
    (S.PAUSED, S.RUNNING): (_announce(NotifyKind.GAME_RESUMED),),
    (None, S.FINISHED): (_finished, _announce(NotifyKind.GAME_FINISHED)),
    (None, S.CANCELLED): (_announce(NotifyKind.GAME_CANCELLED), _cancelled),
}
