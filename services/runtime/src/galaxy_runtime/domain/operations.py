"""The operations worker's side: doing a claimed RuntimeOperation (docs/runtime.md, "Operations").

Each kind talks to the driver and the engine with no transaction open, then records the outcome,
the runtime's new state and its status event in one transaction. A failure is retried with
backoff up to the configured attempts (a recovery is retried by the health watcher instead).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.logging import get_logger
from sqlalchemy.engine import Row

from galaxy_runtime.clients import EngineDown
from galaxy_runtime.domain import events, schedule, turns
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.runtimes import GAME_LOCK
from galaxy_runtime.domain.vocabulary import (
    EngineHealth,
    OperationKind,
    OperationStatus,
    RuntimeStatus,
)
from galaxy_runtime.drivers.base import DriverError, EngineHandle
from galaxy_runtime.repository import runtimes as repo
from galaxy_runtime.repository import versions as versions_repo

log = get_logger(__name__)
K = OperationKind
S = RuntimeStatus


class OperationFailed(Exception):
    """The operation could not be done; the message is recorded and may reach a user via lobby."""


class TryLater(Exception):
    """Not possible right now (another tick runs); the operation waits without counting an attempt."""


async def bring_up(deps: Deps, runtime: Row, image_ref: str) -> EngineHandle:
    """A new engine on the game's state, healthy and initialised with the roster and seed."""
    game_id = str(runtime.game_id)
    try:
        handle = await deps.driver.create(game_id, image_ref)
    except DriverError as error:
        raise OperationFailed(str(error)) from None
    try:
        await _wait_healthy(deps, game_id, handle)
        body = json.dumps({"seed": int(runtime.seed), "roster": runtime.roster}).encode()
        try:
            reply = await deps.engines.call(handle.endpoint, "POST", "/v1/game", body)
        except EngineDown as down:
            raise OperationFailed(f"the engine failed during initialisation: {down}") from None
        if reply.status not in (200, 201):
            raise OperationFailed(f"the engine refused the game ({reply.status}): {reply.body[:300].decode()}")
    except BaseException:
        await deps.driver.remove(game_id)
        raise
    return handle


#: The health poll of a new engine starts at this interval and doubles up to HEALTH_POLL_MAX: a
#: fast engine is seen at once, and a burst of starts (each a process importing its code) is not
#: slowed further by runtime knocking on every engine ten times a second.
HEALTH_POLL_FIRST, HEALTH_POLL_MAX = 0.1, 1.0


async def _wait_healthy(deps: Deps, game_id: str, handle: EngineHandle) -> None:
    """Until the engine answers /v1/health. Fails at once when the engine is gone (it crashed), else
    only after `runtime_engine_start_timeout_seconds`: an engine still starting on a busy machine is
    waited for, not killed and started again (which would only add to the load)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deps.settings.runtime_engine_start_timeout_seconds
    pause = HEALTH_POLL_FIRST
    while not await deps.engines.healthy(handle.endpoint, timeout=2.0):
        if not await deps.driver.alive(game_id, handle.ref):
            raise OperationFailed("the engine exited before it became healthy")
        if loop.time() > deadline:
            raise OperationFailed("the engine did not become healthy within "
                                  f"{deps.settings.runtime_engine_start_timeout_seconds:g} s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, HEALTH_POLL_MAX)


async def execute(deps: Deps, operation: Row, *, clock) -> None:
    try:
        await _DOERS[operation.op](deps, operation, clock)
    except TryLater:
        async with transaction(deps.sessions) as session:
            await repo.finish_operation(session, operation.operation_id, status=OperationStatus.PENDING,
                                        attempts=operation.attempts - 1, lease_until=None,
                                        run_after=clock() + timedelta(seconds=1))
    except (OperationFailed, DriverError) as error:
        await _failed(deps, operation, str(error), clock())
    except Exception as error:
        log.exception("operation_crashed", operation_id=str(operation.operation_id), op=operation.op)
        await _failed(deps, operation, f"internal error ({type(error).__name__})", clock())


def _backoff(deps: Deps, attempts: int) -> timedelta:
    seconds = deps.settings.runtime_restart_backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, deps.settings.runtime_restart_backoff_max_seconds))


async def _failed(deps: Deps, operation: Row, error: str, now: datetime) -> None:
    retry = operation.op != K.RECOVER and operation.attempts < deps.settings.runtime_operation_max_attempts
    log.warning("operation_failed", operation_id=str(operation.operation_id), op=operation.op,
                game_id=str(operation.game_id), error=error, retry=retry)
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, operation.game_id)
        runtime = await repo.get(session, operation.game_id, for_update=True)
        if retry:
            await repo.finish_operation(session, operation.operation_id, status=OperationStatus.PENDING,
                                        error=error, lease_until=None,
                                        run_after=now + _backoff(deps, operation.attempts))
            return
        await repo.finish_operation(session, operation.operation_id, status=OperationStatus.FAILED, error=error,
                                    finished_at=now, lease_until=None)
        if operation.op == K.START and runtime.status == S.STARTING:
            runtime = await repo.update(session, runtime.game_id, status=S.START_FAILED, updated_at=now,
                                        engine_ref=None, endpoint=None, engine_health=EngineHealth.UNKNOWN)
            await events.status_changed(session, runtime, now=now, message=error)
        elif operation.op in (K.RESTART, K.PATCH, K.RECOVER) and runtime.status in (S.RUNNING, S.PAUSED):
            runtime = await repo.update(session, runtime.game_id, updated_at=now,
                                        engine_health=EngineHealth.UNHEALTHY,
                                        restart_failures=runtime.restart_failures + 1)
            await events.status_changed(session, runtime, now=now, message=f"{operation.op} failed: {error}")


async def _succeeded(session, operation: Row, now: datetime) -> None:
    await repo.finish_operation(session, operation.operation_id, status=OperationStatus.SUCCEEDED, error=None,
                                finished_at=now, lease_until=None)


async def _start(deps: Deps, operation: Row, clock) -> None:
    runtime = await repo.get_fresh(deps, operation.game_id)
    if runtime.status != S.STARTING:
        raise OperationFailed(f"the runtime is {runtime.status}, not starting")
    handle = await bring_up(deps, runtime, runtime.image_ref)
    now = clock()
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, operation.game_id)
        current = await repo.get(session, operation.game_id, for_update=True)
        await _succeeded(session, operation, now)
        if current.status != S.STARTING:
            return  # stopped meanwhile: the stop operation (queued behind this one) removes the engine
        runtime = await repo.update(
            session, operation.game_id, status=S.RUNNING, engine_ref=handle.ref, endpoint=handle.endpoint,
            engine_health=EngineHealth.HEALTHY, started_at=now, last_observed_at=now, restart_failures=0,
            next_slot_at=schedule.next_slot(current.turn_schedule, now), updated_at=now,
        )
        await events.status_changed(session, runtime, now=now)
    deps.wake_scheduler.set()


async def _stop(deps: Deps, operation: Row, clock) -> None:
    await deps.driver.remove(str(operation.game_id))
    now = clock()
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, operation.game_id)
        current = await repo.get(session, operation.game_id, for_update=True)
        await _succeeded(session, operation, now)
        status = S.FINISHED if current.status == S.FINISHED else S.STOPPED
        runtime = await repo.update(session, operation.game_id, status=status, engine_ref=None, endpoint=None,
                                    engine_health=EngineHealth.UNKNOWN, next_slot_at=None, finished_at=now,
                                    updated_at=now)
        await events.status_changed(session, runtime, now=now, message=current.stop_reason or "")


async def _replace(deps: Deps, operation: Row, clock) -> None:
    """Restart, patch and recover: a new engine on the same state (and, for a patch, a new image)."""
    runtime = await repo.get_fresh(deps, operation.game_id)
    if runtime.status not in (S.RUNNING, S.PAUSED):
        raise OperationFailed(f"the runtime is {runtime.status}")
    version = runtime.engine_version
    image = runtime.image_ref
    if operation.op == K.PATCH:
        version = operation.params["target_version"]
        async with deps.engine.connect() as connection:
            row = await versions_repo.get(connection, version)
        if row is None or not row.enabled:
            raise OperationFailed(f"engine version {version} is no longer enabled")
        image = row.image_ref
    if operation.op == K.RECOVER and runtime.endpoint and await deps.engines.healthy(runtime.endpoint):
        handle = EngineHandle(str(runtime.game_id), runtime.engine_ref, runtime.endpoint)  # came back by itself
    else:
        handle = await bring_up(deps, runtime, image)
    now = clock()
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, operation.game_id)
        await _succeeded(session, operation, now)
        runtime = await repo.update(
            session, operation.game_id, engine_ref=handle.ref, endpoint=handle.endpoint, engine_version=version,
            image_ref=image, engine_health=EngineHealth.HEALTHY, restart_failures=0, last_observed_at=now,
            updated_at=now,
        )
        await events.status_changed(session, runtime, now=now, message=f"engine {operation.op}: {version}")


async def _force_turn(deps: Deps, operation: Row, clock) -> None:
    slot_at = datetime.fromisoformat(operation.params["slot_at"])
    tick = await turns.claim_forced(deps, game_id=operation.game_id, slot_at=slot_at, now=clock())
    if tick is None:
        raise TryLater()
    if tick.status == "done":
        outcome = True
    else:
        outcome = await turns.run_tick(deps, tick, clock=clock)
    if outcome is None:
        raise OperationFailed("the engine did not run the turn")
    async with transaction(deps.sessions) as session:
        await _succeeded(session, operation, clock())


_DOERS = {
    K.START: _start,
    K.STOP: _stop,
    K.RESTART: _replace,
    K.PATCH: _replace,
    K.RECOVER: _replace,
    K.FORCE_NEXT_TURN: _force_turn,
}
