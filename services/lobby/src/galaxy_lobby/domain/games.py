"""Games: creation, reads, PATCH, and the status operations (docs/lobby.md).

Status moves go through domain/machine.move (the only place that assigns a status). Operations
that involve runtime call it outside any transaction: `start` commits `starting` first and asks
runtime afterwards (a refusal then moves the game to `start_failed` with runtime's reason);
`pause`/`resume` ask runtime first and commit the move only when runtime agreed; `force-stop` and
`cancel` commit first and tell runtime afterwards (best effort: the game is over either way).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.errors import Conflict, NotFound, PermissionDenied, Unavailable
from galaxy_kit.logging import get_logger
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.clients import RosterEntry, RuntimeRefused
from galaxy_lobby.domain import machine, validation
from galaxy_lobby.domain.actors import Actor
from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.domain.vocabulary import EDITABLE, GameStatus, Visibility
from galaxy_lobby.repository import enrolment as enrolment_repo
from galaxy_lobby.repository import games as repo

log = get_logger(__name__)

S = GameStatus
GAME_NOT_FOUND = "game not found"
USER_GAMES_LOCK = "lobby.user-games"


@dataclass(frozen=True)
class GameFields:
    """The create body, after the edge's schema check; None where the body left a field out."""

    game_name: str
    description: str | None
    min_players: int
    max_players: int
    start_gap_hours: int
    start_gap_players: int
    enrollment_ends_at: datetime | None
    turn_schedule: str
    target_engine_version: str


@dataclass(frozen=True)
class GamePatch:
    game_name: str | None = None
    description: str | None = None
    enrollment_ends_at: datetime | None = None
    turn_schedule: str | None = None
    target_engine_version: str | None = None
    min_players: int | None = None
    max_players: int | None = None
    start_gap_hours: int | None = None
    start_gap_players: int | None = None


@dataclass(frozen=True)
class StateChange:
    game_id: uuid.UUID
    status: str
    runtime_status: str


def _validated(fields: GameFields, now: datetime) -> dict[str, object]:
    validation.players(fields.min_players, fields.max_players)
    validation.start_gap(fields.start_gap_hours, fields.start_gap_players)
    return {
        "game_name": validation.game_name(fields.game_name),
        "description": validation.description(fields.description) if fields.description is not None else None,
        "min_players": fields.min_players,
        "max_players": fields.max_players,
        "start_gap_hours": fields.start_gap_hours,
        "start_gap_players": fields.start_gap_players,
        "enrollment_ends_at": validation.future(fields.enrollment_ends_at, "enrollment_ends_at", now),
        "turn_schedule": validation.turn_schedule(fields.turn_schedule),
        "target_engine_version": validation.engine_version(fields.target_engine_version),
    }


async def ensure_room_for_game(session: AsyncSession, user_id: uuid.UUID, max_active_games: int,
                               *, who: str = "you") -> None:
    """Under the user's lock: Conflict when one more active game would exceed the allowance."""
    await advisory_xact_lock(session, USER_GAMES_LOCK, user_id)
    count = await enrolment_repo.active_games_of(session, user_id)
    if count >= max_active_games:
        subject = "you are" if who == "you" else "the player is"
        raise Conflict(f"{subject} already in {count} active games; the allowance is {max_active_games}")


async def create_private(deps: Deps, *, user_id: str, fields: GameFields, visibility: str, now: datetime) -> Row:
    owner = validation.parse_uuid(user_id, "user_id")
    if visibility != Visibility.PRIVATE:
        raise validation.InvalidArgument("visibility must be private (public games are created by admins)")
    values = _validated(fields, now)
    allowance = await deps.accounts.allowance(str(owner))
    async with transaction(deps.sessions) as session:
        await ensure_room_for_game(session, owner, allowance.max_active_games)
        return await _insert(session, values, visibility=Visibility.PRIVATE, owner=owner, status=S.DRAFT,
                             actor=Actor.user(owner), now=now)


async def create_public(deps: Deps, *, admin_username: str, fields: GameFields, now: datetime) -> Row:
    """Public games are created with enrollment open (docs/lobby.md, "Public games")."""
    values = _validated(fields, now)
    async with transaction(deps.sessions) as session:
        return await _insert(session, values, visibility=Visibility.PUBLIC, owner=None, status=S.ENROLLMENT_OPEN,
                             actor=Actor.admin(admin_username), now=now)


async def _insert(session: AsyncSession, values: dict[str, object], *, visibility: Visibility,
                  owner: uuid.UUID | None, status: GameStatus, actor: Actor, now: datetime) -> Row:
    game_id = uuid.uuid4()
    await repo.insert(session, game_id=game_id, visibility=visibility, owner_user_id=owner, status=status,
                      runtime_status=machine.RUNTIME_NOT_STARTED, current_turn=0, created_at=now,
                      updated_at=now, **values)
    await machine.record_creation(session, game_id, status, actor=actor, now=now)
    return await repo.get(session, game_id)


# ---- reads (one statement each on deps.reads, no transaction) ----


async def get(deps: Deps, *, game_id: str) -> Row:
    game = await repo.read(deps.reads, validation.parse_uuid(game_id, "game_id"))
    if game is None:
        raise NotFound(GAME_NOT_FOUND)
    return game


def _check_paging(page: int, page_size: int) -> None:
    if page < 1 or not 1 <= page_size <= 200:
        raise validation.InvalidArgument("page must be at least 1 and page_size 1-200")


async def page(deps: Deps, *, page: int, page_size: int) -> tuple[list[Row], int]:
    """A page of every game (the admin list) and the total."""
    _check_paging(page, page_size)
    return await repo.page(deps.reads, page=page, page_size=page_size)


async def public_page(deps: Deps, *, page: int, page_size: int) -> tuple[list[Row], int, int]:
    """A page of the public list, its total, and the list's version they were read at."""
    _check_paging(page, page_size)
    return await repo.public_page(deps.reads, page=page, page_size=page_size)


async def public_list_version(deps: Deps) -> int:
    """The public list's version now: equal to a page's version means that page is still exact."""
    return await repo.public_list_version(deps.reads)


async def mine(deps: Deps, *, user_id: str) -> list[Row]:
    user = validation.parse_uuid(user_id, "user_id")
    return await repo.of_user(deps.reads, user)


# ---- PATCH ----


async def update(deps: Deps, *, user_id: str, game_id: str, patch: GamePatch, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    parsed = validation.parse_uuid(game_id, "game_id")
    values: dict[str, object] = {}
    if patch.game_name is not None:
        values["game_name"] = validation.game_name(patch.game_name)
    if patch.description is not None:
        values["description"] = validation.description(patch.description)
    if patch.enrollment_ends_at is not None:
        values["enrollment_ends_at"] = validation.future(patch.enrollment_ends_at, "enrollment_ends_at", now)
    if patch.turn_schedule is not None:
        values["turn_schedule"] = validation.turn_schedule(patch.turn_schedule)
    if patch.target_engine_version is not None:
        values["target_engine_version"] = validation.engine_version(patch.target_engine_version)
    for field in ("min_players", "max_players", "start_gap_hours", "start_gap_players"):
        if getattr(patch, field) is not None:
            values[field] = getattr(patch, field)
    if "start_gap_hours" in values or "start_gap_players" in values:
        validation.start_gap(values.get("start_gap_hours", 0), values.get("start_gap_players", 0))
    async with transaction(deps.sessions) as session:
        game = await _owned_for_update(session, parsed, caller)
        min_players = values.get("min_players", game.min_players)
        max_players = values.get("max_players", game.max_players)
        validation.players(min_players, max_players)
        if not values:
            return game
        if game.status not in EDITABLE:
            raise Conflict(f"a game in {game.status} can no longer be changed")
        active = await repo.active_member_count(session, parsed)
        if max_players < active:
            raise Conflict(f"max_players cannot go below the {active} active members")
        if game.status == S.READY_TO_START and min_players > active:
            raise Conflict(f"the game is ready to start with {active} members; min_players cannot exceed that")
        return await repo.update(session, parsed, updated_at=now, **values)


async def _owned_for_update(session: AsyncSession, game_id: uuid.UUID, caller: uuid.UUID) -> Row:
    game = await repo.get(session, game_id, for_update=True)
    if game is None:
        raise NotFound(GAME_NOT_FOUND)
    if game.owner_user_id != caller:
        raise PermissionDenied("only the game's owner can do this")
    return game


async def locked(session: AsyncSession, game_id: uuid.UUID) -> Row:
    game = await repo.get(session, game_id, for_update=True)
    if game is None:
        raise NotFound(GAME_NOT_FOUND)
    return game


# ---- status operations ----


def _changed(game: Row) -> StateChange:
    return StateChange(game.game_id, game.status, game.runtime_status)


async def open_enrollment(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await _owner_move(deps, user_id, game_id, S.ENROLLMENT_OPEN, frozenset({S.DRAFT}), "open_enrollment",
                             now)


async def ready_to_start(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await _owner_move(deps, user_id, game_id, S.READY_TO_START, frozenset({S.ENROLLMENT_OPEN}),
                             "ready_to_start", now)


async def cancel(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    async with transaction(deps.sessions) as session:
        game = await _owned_for_update(session, validation.parse_uuid(game_id, "game_id"),
                                       validation.parse_uuid(user_id, "user_id"))
        before = game.status
        game = await machine.move(session, game, S.CANCELLED, actor=Actor.user(user_id), reason="owner_cancel",
                                  now=now)
    if before in (S.STARTING, S.START_FAILED):
        await _tell_runtime_to_stop(deps, game.game_id, "cancelled")
    return _changed(game)


async def _owner_move(deps: Deps, user_id: str, game_id: str, to: GameStatus, only_from: frozenset[GameStatus],
                      reason: str, now: datetime) -> StateChange:
    async with transaction(deps.sessions) as session:
        game = await _owned_for_update(session, validation.parse_uuid(game_id, "game_id"),
                                       validation.parse_uuid(user_id, "user_id"))
        game = await machine.move(session, game, to, actor=Actor.user(user_id), reason=reason, now=now,
                                  only_from=only_from)
    return _changed(game)


async def start(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await begin_start(deps, validation.parse_uuid(game_id, "game_id"), actor=Actor.user(user_id),
                             owner=validation.parse_uuid(user_id, "user_id"), only_from=frozenset({S.READY_TO_START}),
                             reason="owner_start", now=now)


async def retry_start(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await begin_start(deps, validation.parse_uuid(game_id, "game_id"), actor=Actor.user(user_id),
                             owner=validation.parse_uuid(user_id, "user_id"), only_from=frozenset({S.START_FAILED}),
                             reason="owner_retry_start", now=now)


async def force_start(deps: Deps, *, admin_username: str, game_id: str, now: datetime) -> StateChange:
    return await begin_start(deps, validation.parse_uuid(game_id, "game_id"), actor=Actor.admin(admin_username),
                             owner=None,
                             only_from=frozenset({S.ENROLLMENT_OPEN, S.READY_TO_START, S.START_FAILED}),
                             reason="admin_force_start", now=now)


async def begin_start(deps: Deps, game_id: uuid.UUID, *, actor: Actor, owner: uuid.UUID | None,
                      only_from: frozenset[GameStatus] | None, reason: str, now: datetime) -> StateChange:
    """Commit `starting`, then ask runtime; a refusal ends in `start_failed` with runtime's reason."""
    async with transaction(deps.sessions) as session:
        game = await (_owned_for_update(session, game_id, owner) if owner else locked(session, game_id))
        game = await machine.move(session, game, S.STARTING, actor=actor, reason=reason, now=now,
                                  only_from=only_from)
        roster = await enrolment_repo.active_roster(session, game_id)
    return await ask_runtime_to_start(deps, game, roster, now=now)


async def ask_runtime_to_start(deps: Deps, game: Row, roster: list[Row], *, now: datetime) -> StateChange:
    try:
        await deps.runtime.start(
            game_id=str(game.game_id), engine_version=game.target_engine_version,
            turn_schedule=game.turn_schedule,
            roster=[RosterEntry(str(member.user_id), member.race_name) for member in roster],
        )
    except RuntimeRefused as refused:
        log.warning("game_start_failed", game_id=str(game.game_id), reason=refused.reason)
        async with transaction(deps.sessions) as session:
            current = await locked(session, game.game_id)
            if current.status != S.STARTING:  # runtime's status event got there first
                return _changed(current)
            failed = await machine.move(session, current, S.START_FAILED, actor=Actor.system("runtime"),
                                        reason=refused.reason, now=now)
        return _changed(failed)
    return _changed(game)


async def pause(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await _runtime_first(deps, user_id, game_id, S.PAUSED, "owner_pause", deps.runtime.pause, now)


async def resume(deps: Deps, *, user_id: str, game_id: str, now: datetime) -> StateChange:
    return await _runtime_first(deps, user_id, game_id, S.RUNNING, "owner_resume", deps.runtime.resume, now)


async def _runtime_first(deps: Deps, user_id: str, game_id: str, to: GameStatus, reason: str, call,
                         now: datetime) -> StateChange:
    caller = validation.parse_uuid(user_id, "user_id")
    parsed = validation.parse_uuid(game_id, "game_id")
    game = await get(deps, game_id=game_id)
    if game.owner_user_id != caller:
        raise PermissionDenied("only the game's owner can do this")
    only_from = frozenset({S.PAUSED if to == S.RUNNING else S.RUNNING})
    machine.check(game.status, to, only_from)  # before bothering runtime; checked again under the lock
    try:
        await call(str(parsed))
    except RuntimeRefused as refused:
        if refused.kind == RuntimeRefused.REFUSED:
            raise Conflict(refused.reason) from None
        raise Unavailable(refused.reason) from None
    async with transaction(deps.sessions) as session:
        game = await _owned_for_update(session, parsed, caller)
        if game.status == to:  # runtime's own status event got there first: done, not a conflict
            return _changed(game)
        game = await machine.move(session, game, to, actor=Actor.user(caller), reason=reason, now=now,
                                  only_from=only_from)
    return _changed(game)


async def force_stop(deps: Deps, *, admin_username: str, game_id: str, now: datetime) -> StateChange:
    async with transaction(deps.sessions) as session:
        game = await locked(session, validation.parse_uuid(game_id, "game_id"))
        game = await machine.move(session, game, S.FINISHED, actor=Actor.admin(admin_username),
                                  reason="admin_force_stop", now=now)
    await _tell_runtime_to_stop(deps, game.game_id, "admin_force_stop")
    return _changed(game)


async def _tell_runtime_to_stop(deps: Deps, game_id: uuid.UUID, reason: str) -> None:
    try:
        await deps.runtime.stop(str(game_id), reason)
    except RuntimeRefused as refused:
        # The game is over in lobby either way; runtime reconciles its containers on its own.
        log.warning("runtime_stop_failed", game_id=str(game_id), reason=refused.reason)
