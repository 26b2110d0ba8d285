"""Runtimes and their operations (docs/runtime.md, "Runtimes" and "Operations").

Every request that changes a runtime records a RuntimeOperation in the same transaction as the
change and its status event. Work that talks to the driver or the engine (start, stop, restart,
patch, recover, a forced turn) is left `pending` and done by the operations worker
(domain/operations.py), which claims rows with SKIP LOCKED: the RPC answers at once and the outcome
travels on galaxy.runtime.status.v1. Pause and resume change only what the scheduler reads, so they
finish in the request.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.errors import Conflict, InvalidArgument, NotFound
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_runtime.domain import events, schedule
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.versions import Semver, enabled_version
from galaxy_runtime.domain.vocabulary import (
    LIVE,
    OperationKind,
    OperationStatus,
    RuntimeStatus,
)
from galaxy_runtime.repository import runtimes as repo

S = RuntimeStatus
GAME_LOCK = "runtime.game"
#: Seeds runtime draws itself fit a signed 64-bit integer (any size is fine for the engine).
SEED_BITS = 63
MAX_ROSTER = 200


@dataclass(frozen=True)
class Member:
    user_id: str
    race: str


def parse_game_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("game_id: must be a UUID") from None


async def get(deps: Deps, *, game_id: str) -> Row:
    parsed = parse_game_id(game_id)
    runtime = await repo.read(deps.reads, parsed)
    if runtime is None:
        raise NotFound("runtime not found")
    return runtime


async def _locked(session: AsyncSession, game_id: uuid.UUID) -> Row:
    await advisory_xact_lock(session, GAME_LOCK, game_id)
    runtime = await repo.get(session, game_id, for_update=True)
    if runtime is None:
        raise NotFound("runtime not found")
    return runtime


async def record_operation(session: AsyncSession, game_id: uuid.UUID, op: OperationKind, *, requested_by: str,
                           now: datetime, status: OperationStatus = OperationStatus.PENDING,
                           params: dict | None = None, run_after: datetime | None = None) -> Row:
    finished = now if status in (OperationStatus.SUCCEEDED, OperationStatus.FAILED) else None
    return await repo.insert_operation(
        session, operation_id=uuid.uuid4(), game_id=game_id, op=op, status=status, params=params or {},
        requested_by=requested_by, run_after=run_after or now, started_at=now, finished_at=finished,
    )


def _roster(members: list[Member]) -> list[dict[str, str]]:
    if not members:
        raise InvalidArgument("roster: must name at least one member")
    if len(members) > MAX_ROSTER:
        raise InvalidArgument(f"roster: at most {MAX_ROSTER} members")
    users = [m.user_id for m in members]
    races = [m.race for m in members]
    if len(set(users)) != len(users) or len(set(races)) != len(races):
        raise InvalidArgument("roster: user ids and race names must be unique")
    return [{"user_id": m.user_id, "race": m.race} for m in members]


async def start(deps: Deps, *, game_id: str, engine_version: str, roster: list[Member], turn_schedule: str,
                seed: int, now: datetime) -> Row:
    """Record the runtime (`starting`) and its start operation; the worker creates the engine.

    Asking again while a start is pending or done answers that start (lobby may retry a call whose
    answer it lost); after `start_failed` it is a new attempt (lobby's retry-start).
    """
    parsed = parse_game_id(game_id)
    members = _roster(roster)
    cron = schedule.validate(turn_schedule)
    async with transaction(deps.sessions) as session:
        version = await enabled_version(session, engine_version)
        await advisory_xact_lock(session, GAME_LOCK, parsed)
        runtime = await repo.get(session, parsed, for_update=True)
        fields = {"status": S.STARTING, "engine_version": version.version, "image_ref": version.image_ref,
                      "turn_schedule": cron, "roster": members, "updated_at": now, "stop_reason": None}
        if runtime is None:
            runtime = await repo.insert_runtime(session, game_id=parsed, seed=seed or secrets.randbits(SEED_BITS),
                                                created_at=now, **fields)
        elif runtime.status == S.START_FAILED:
            runtime = await repo.update(session, parsed, **fields)
        elif runtime.status in (S.STARTING, *LIVE):
            previous = await repo.open_operation(session, parsed, OperationKind.START)
            if previous is not None:
                return previous
            return await record_operation(session, parsed, OperationKind.START, requested_by="lobby", now=now,
                                          status=OperationStatus.SUCCEEDED)
        else:
            raise Conflict(f"the runtime of this game is {runtime.status}; it cannot start again")
        operation = await record_operation(session, parsed, OperationKind.START, requested_by="lobby", now=now)
        await events.status_changed(session, runtime, now=now)
    deps.wake_operations.set()
    return operation


async def stop(deps: Deps, *, game_id: str, reason: str, now: datetime) -> Row:
    """No more turns from now on; the worker removes the engine (its state is kept)."""
    parsed = parse_game_id(game_id)
    async with transaction(deps.sessions) as session:
        runtime = await _locked(session, parsed)
        if runtime.status in (S.STOPPED, S.FINISHED, S.STOPPING):
            previous = await repo.open_operation(session, parsed, OperationKind.STOP)
            return previous or await record_operation(session, parsed, OperationKind.STOP, requested_by="lobby",
                                                      now=now, status=OperationStatus.SUCCEEDED)
        await repo.fail_open_operations(session, parsed, error="superseded by stop", now=now)
        await repo.update(session, parsed, status=S.STOPPING, next_slot_at=None, stop_reason=reason or "stopped",
                          updated_at=now)
        operation = await record_operation(session, parsed, OperationKind.STOP, requested_by="lobby", now=now,
                                           params={"reason": reason})
    deps.wake_operations.set()
    return operation


async def pause(deps: Deps, *, game_id: str, now: datetime) -> Row:
    """No tick runs while paused; the engine keeps running and answering reports."""
    parsed = parse_game_id(game_id)
    async with transaction(deps.sessions) as session:
        runtime = await _locked(session, parsed)
        if runtime.status != S.RUNNING:
            raise Conflict(f"the runtime is {runtime.status}; only a running one can pause")
        runtime = await repo.update(session, parsed, status=S.PAUSED, updated_at=now)
        operation = await record_operation(session, parsed, OperationKind.PAUSE, requested_by="lobby", now=now,
                                           status=OperationStatus.SUCCEEDED)
        await events.status_changed(session, runtime, now=now)
    return operation


async def resume(deps: Deps, *, game_id: str, now: datetime) -> Row:
    """Ticks again from the first slot after now: the slots missed while paused are not made up."""
    parsed = parse_game_id(game_id)
    async with transaction(deps.sessions) as session:
        runtime = await _locked(session, parsed)
        if runtime.status != S.PAUSED:
            raise Conflict(f"the runtime is {runtime.status}; only a paused one can resume")
        runtime = await repo.update(session, parsed, status=S.RUNNING, updated_at=now,
                                    next_slot_at=schedule.next_slot(runtime.turn_schedule, now))
        operation = await record_operation(session, parsed, OperationKind.RESUME, requested_by="lobby", now=now,
                                           status=OperationStatus.SUCCEEDED)
        await events.status_changed(session, runtime, now=now)
    deps.wake_scheduler.set()
    return operation


async def _admin_operation(deps: Deps, game_id: str, op: OperationKind, admin: str, now: datetime,
                           params: dict | None = None, check=None) -> Row:
    parsed = parse_game_id(game_id)
    async with transaction(deps.sessions) as session:
        runtime = await _locked(session, parsed)
        if runtime.status not in LIVE:
            raise Conflict(f"the runtime is {runtime.status}; {op} needs a running or paused one")
        if check is not None:
            params = await check(session, runtime)
        operation = await record_operation(session, parsed, op, requested_by=f"admin:{admin}", now=now,
                                           params=params)
    deps.wake_operations.set()
    return operation


async def restart(deps: Deps, *, game_id: str, admin: str, now: datetime) -> Row:
    """Replace the engine with a new one of the same version on the same state."""
    return await _admin_operation(deps, game_id, OperationKind.RESTART, admin, now)


async def patch(deps: Deps, *, game_id: str, target_version: str, admin: str, now: datetime) -> Row:
    """Replace the engine with another patch release of its major.minor line, on the same state."""
    target = Semver.parse(target_version, "target_version")

    async def check(session: AsyncSession, runtime: Row) -> dict:
        current = Semver.parse(runtime.engine_version)
        if (target.major, target.minor) != (current.major, current.minor):
            raise InvalidArgument(f"target_version: {target_version} is not a patch of "
                                  f"{current.major}.{current.minor} (the game runs {runtime.engine_version})")
        if target_version == runtime.engine_version:
            raise InvalidArgument(f"target_version: the game already runs {target_version}")
        await enabled_version(session, target_version)
        return {"target_version": target_version}

    return await _admin_operation(deps, game_id, OperationKind.PATCH, admin, now, check=check)


async def force_next_turn(deps: Deps, *, game_id: str, admin: str, now: datetime) -> Row:
    """One extra turn now, besides the schedule (the next slot still runs its own)."""
    return await _admin_operation(deps, game_id, OperationKind.FORCE_NEXT_TURN, admin, now,
                                  params={"slot_at": now.isoformat()})
