"""Lobby's consumers: runtime's status events and account's lifecycle events (docs/lobby.md, "Events").

Both run inside galaxy_kit.events.IdempotentConsumer: the effects and the inbox row commit in one
transaction, so each event is applied once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
from galaxy_kit.events import EventEnvelope, MalformedEvent, unpack_payload
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain import machine, notify
from galaxy_lobby.domain.actors import Actor
from galaxy_lobby.domain.vocabulary import (
    ENROLLING,
    GameStatus,
    MembershipStatus,
    NotifyKind,
)
from galaxy_lobby.repository import enrolment as enrolment_repo
from galaxy_lobby.repository import games as games_repo
from galaxy_lobby.repository import race_names as race_names_repo

log = get_logger(__name__)

RUNTIME_STATUS_TOPIC = "galaxy.runtime.status.v1"
RUNTIME_STATUS_GROUP = "runtime-status"
LIFECYCLE_TOPIC = "galaxy.account.lifecycle.v1"
LIFECYCLE_GROUP = "account-lifecycle"
LIFECYCLE_KINDS = frozenset({"soft_deleted", "permanently_blocked"})

S = GameStatus
#: The game status a runtime status leads to, from the statuses where that makes sense.
_RUNTIME_MOVES: dict[str, tuple[GameStatus, frozenset[GameStatus]]] = {
    "running": (S.RUNNING, frozenset({S.STARTING})),
    "start_failed": (S.START_FAILED, frozenset({S.STARTING})),
    "paused": (S.PAUSED, frozenset({S.RUNNING})),
    "finished": (S.FINISHED, frozenset({S.RUNNING, S.PAUSED})),
}


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise MalformedEvent(f"{what} without a valid id: {value!r}") from None


async def on_runtime_status(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
    event = unpack_payload(envelope, RuntimeStatusEvent)
    game_id = _uuid(event.game_id, "RuntimeStatusEvent")
    occurred = event.occurred_at.ToDatetime(tzinfo=UTC) if event.HasField("occurred_at") else datetime.now(UTC)
    game = await games_repo.get(session, game_id, for_update=True)
    if game is None:
        log.warning("runtime_status_for_unknown_game", game_id=str(game_id), event_id=envelope.event_id)
        return
    if game.runtime_event_at is not None and occurred < game.runtime_event_at:
        log.info("runtime_status_stale", game_id=str(game_id), event_id=envelope.event_id)
        return
    planned = _RUNTIME_MOVES.get(event.status)
    if planned is not None and game.status in planned[1]:
        # Lobby moves a game itself too (pause/resume ask runtime, then commit). A status runtime
        # reported before lobby's own latest move is history, not news: a late "paused" must not
        # undo the resume that followed it.
        changed_at = await games_repo.last_transition_at(session, game_id)
        if changed_at is not None and occurred < changed_at:
            log.info("runtime_status_superseded", game_id=str(game_id), event_id=envelope.event_id,
                     runtime_status=event.status, game_status=game.status)
            planned = None
    if planned is not None and game.status in planned[1]:
        to, _ = planned
        game = await machine.move(session, game, to, actor=Actor.system("runtime"),
                                  reason=event.message or f"runtime_{event.status}", now=occurred)
    elif planned is not None and game.status != planned[0]:
        log.warning("runtime_status_not_applicable", game_id=str(game_id), game_status=game.status,
                    runtime_status=event.status)
    await games_repo.update(
        session, game_id, runtime_status=event.status or game.runtime_status,
        engine_health=event.engine_health or game.engine_health,
        current_turn=max(event.current_turn, game.current_turn), runtime_event_at=occurred,
        updated_at=max(occurred, game.updated_at),
    )


async def on_account_lifecycle(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
    """A deleted or blocked account lets go of everything it held in lobby (docs/lobby.md)."""
    event = unpack_payload(envelope, AccountLifecycleEvent)
    user_id = _uuid(event.user_id, "AccountLifecycleEvent")
    if event.kind not in LIFECYCLE_KINDS:
        log.warning("account_lifecycle_kind_ignored", kind=event.kind, event_id=envelope.event_id)
        return
    now = event.occurred_at.ToDatetime(tzinfo=UTC) if event.HasField("occurred_at") else datetime.now(UTC)
    actor = Actor.system("account_lifecycle")
    reason = f"account_{event.kind}"
    owned = await games_repo.owned_unstarted(session, user_id)
    seats = await enrolment_repo.active_memberships_of(session, user_id)
    # Lock every game concerned in one fixed order before changing any: approvals lock one game
    # at a time, so this never deadlocks with them.
    games = {g.game_id: g for g in await games_repo.get_many_for_update(
        session, sorted({*owned, *(m.game_id for m in seats)}))}
    for game_id in sorted(owned):
        game = games[game_id]
        if S.CANCELLED in machine.TRANSITIONS[GameStatus(game.status)]:
            games[game_id] = await machine.move(session, game, S.CANCELLED, actor=actor, reason=reason, now=now)
    for membership in seats:
        game = games[membership.game_id]
        if game.status in (S.CANCELLED, S.FINISHED):
            continue
        await enrolment_repo.end_membership(session, membership.membership_id, status=MembershipStatus.REMOVED,
                                            now=now, by=actor.label, reason=reason)
        if game.owner_user_id is not None and game.owner_user_id != user_id:
            await notify.intend(
                session, kind=NotifyKind.MEMBERSHIP_REMOVED, recipients=[game.owner_user_id], now=now,
                params={"game_id": game.game_id, "game_name": game.game_name,
                        "membership_id": membership.membership_id, "user_id": user_id,
                        "race_name": membership.race_name, "by": "system", "reason": reason},
            )
    withdrawn = await enrolment_repo.withdraw_applications_of(session, user_id, now)
    revoked = await enrolment_repo.revoke_invites_of(session, user_id, now)
    released = await race_names_repo.release_all_of(session, user_id)
    log.info("account_lifecycle_applied", user_id=str(user_id), kind=event.kind, event_id=envelope.event_id,
             cancelled_games=len(owned), memberships=len(seats), applications=withdrawn, invites=revoked,
             race_names=released, enrolling=[str(g) for g, row in games.items() if row.status in ENROLLING])
