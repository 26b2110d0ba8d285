"""Runtime's background workers: the operations queue, the turn scheduler and the health watcher.

Each is a galaxy_kit BackgroundWorker (run until stop), safe to run on several replicas at once:
they claim work with SKIP LOCKED and unique rows, never with an in-process lock.
`clock` is an input (tests drive it); the loops only decide when to look again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from galaxy_kit.db import is_unavailable, transaction
from galaxy_kit.logging import get_logger

from galaxy_runtime.domain import events, operations, turns
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.runtimes import record_operation
from galaxy_runtime.domain.vocabulary import EngineHealth, OperationKind, RuntimeStatus
from galaxy_runtime.repository import runtimes as repo

log = get_logger(__name__)
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class _Loop:
    """Run `pass_once` until stopped, waking on `wake` or after the interval; a database outage is waited out."""

    interval: float

    def __init__(self) -> None:
        self._stopping = asyncio.Event()

    async def pass_once(self) -> float | None:  # returns how long to sleep at most, None = interval
        raise NotImplementedError

    def wake_event(self) -> asyncio.Event | None:
        return None

    async def run(self) -> None:
        wake = self.wake_event()
        while not self._stopping.is_set():
            if wake is not None:
                wake.clear()
            try:
                delay = await self.pass_once()
            except Exception as error:
                if not is_unavailable(error):
                    raise
                log.warning("runtime_worker_database_unavailable", worker=type(self).__name__)
                delay = self.interval
            delay = self.interval if delay is None else max(0.0, min(delay, self.interval))
            waiters = [asyncio.ensure_future(self._stopping.wait())]
            if wake is not None:
                waiters.append(asyncio.ensure_future(wake.wait()))
            _, _pending = await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def stop(self) -> None:
        self._stopping.set()


class OperationsWorker(_Loop):
    """Claims due RuntimeOperations and does them, up to `concurrency` at once in this replica."""

    def __init__(self, deps: Deps, clock: Clock = system_clock) -> None:
        super().__init__()
        self._deps = deps
        self._clock = clock
        self.interval = deps.settings.runtime_operations_poll_seconds
        self._running: set[asyncio.Task] = set()

    def wake_event(self) -> asyncio.Event:
        return self._deps.wake_operations

    async def pass_once(self) -> float | None:
        room = self._deps.settings.runtime_operations_concurrency - len(self._running)
        if room <= 0:
            return None
        now = self._clock()
        lease = timedelta(seconds=self._deps.settings.runtime_engine_start_timeout_seconds * 4)
        async with transaction(self._deps.sessions) as session:
            claimed = await repo.claim_operations(session, now, now + lease, room)
        for operation in claimed:
            task = asyncio.create_task(operations.execute(self._deps, operation, clock=self._clock))
            self._running.add(task)
            task.add_done_callback(self._done)
        return None

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._deps.wake_operations.set()  # a game's next operation may be claimable now

    async def stop(self) -> None:
        await super().stop()
        if self._running:
            await asyncio.wait(list(self._running), timeout=self._deps.settings.shutdown_grace_seconds)


class TurnScheduler(_Loop):
    """Claims due cron slots and retries, and runs their turns; sleeps until the next slot it knows of."""

    def __init__(self, deps: Deps, runner: turns.TurnRunner, clock: Clock = system_clock) -> None:
        super().__init__()
        self._deps = deps
        self._runner = runner
        self._clock = clock
        self.interval = deps.settings.runtime_tick_interval_seconds

    def wake_event(self) -> asyncio.Event:
        return self._deps.wake_scheduler

    async def pass_once(self) -> float | None:
        limit = self._deps.settings.runtime_tick_batch
        now = self._clock()
        while True:
            began = asyncio.get_running_loop().time()
            claimed = await turns.claim_due_slots(self._deps, now=now, limit=limit)
            for item in claimed:
                self._runner.spawn(item.tick, item.endpoint)
            if claimed:
                log.info("slots_claimed", games=len(claimed), late_ms=round((now - min(
                    item.tick.slot_at for item in claimed)).total_seconds() * 1000),
                    claim_ms=round((asyncio.get_running_loop().time() - began) * 1000))
            if len(claimed) < limit:
                break
        for tick in await turns.claim_retries(self._deps, now=now, limit=limit):
            self._runner.spawn(tick)
        async with self._deps.engine.connect() as connection:
            earliest = await repo.earliest_slot(connection)
        if earliest is None:
            return None
        return (earliest - self._clock()).total_seconds()

    async def stop(self) -> None:
        await super().stop()
        await self._runner.drain(self._deps.settings.shutdown_grace_seconds)


#: Health checks one watcher pass has in flight: each is an HTTP call and, when the health changed,
#: a transaction; unbounded, a pass over hundreds of engines would take every pooled connection
#: from the scheduler claiming the next slot.
HEALTH_CHECKS_AT_ONCE = 16


class HealthWatcher(_Loop):
    """Looks at every live engine every interval; a dead one gets a recovery operation, with backoff.

    On its first pass it reconciles the driver's engines with the runtimes: an engine a live runtime
    records is adopted (nothing to do: its endpoint is in the row), any other engine carrying
    runtime's label and older than the grace period is removed.
    """

    def __init__(self, deps: Deps, clock: Clock = system_clock) -> None:
        super().__init__()
        self._deps = deps
        self._clock = clock
        self.interval = deps.settings.runtime_health_interval_seconds
        self._reconciled = False

    async def pass_once(self) -> float | None:
        if not self._reconciled:
            await self.reconcile()
            self._reconciled = True
        now = self._clock()
        older_than = now - timedelta(seconds=self.interval * 0.8)
        async with transaction(self._deps.sessions) as session:
            watched = await repo.claim_to_observe(session, now, older_than, 200)
        gate = asyncio.Semaphore(HEALTH_CHECKS_AT_ONCE)

        async def look(runtime) -> None:
            async with gate:
                await self._look(runtime)

        await asyncio.gather(*(look(runtime) for runtime in watched))
        return None

    async def reconcile(self) -> None:
        deps = self._deps
        async with deps.engine.connect() as connection:
            owned = await repo.with_engines(connection)
        grace = timedelta(seconds=deps.settings.runtime_orphan_grace_seconds)
        now = self._clock()
        for found in await deps.driver.list_engines():
            runtime = next((r for r in owned.values() if str(r.game_id) == found.game_id), None)
            if runtime is not None and runtime.engine_ref == found.ref:
                log.info("engine_adopted", game_id=found.game_id, ref=found.ref)
                continue
            if now - found.created_at < grace:
                continue
            log.warning("engine_orphan_removed", game_id=found.game_id, ref=found.ref)
            await deps.driver.remove(found.game_id)

    async def _look(self, runtime) -> None:
        deps = self._deps
        healthy = bool(runtime.endpoint) and await deps.engines.healthy(runtime.endpoint)
        if healthy and runtime.engine_health == EngineHealth.HEALTHY:
            return  # nothing to record: the common case costs no transaction
        # Gone (no process or container) is certain; alive but silent may be an engine starved of CPU
        # for a moment: that one is recovered only if it misses the next check too.
        gone = not healthy and not (runtime.engine_ref and await deps.driver.alive(str(runtime.game_id),
                                                                                 runtime.engine_ref))
        now = self._clock()
        async with transaction(deps.sessions) as session:
            current = await repo.get(session, runtime.game_id, for_update=True)
            if current is None or current.status not in (RuntimeStatus.RUNNING, RuntimeStatus.PAUSED):
                return
            missed_before = current.engine_health == EngineHealth.UNHEALTHY
            health = EngineHealth.HEALTHY if healthy else EngineHealth.UNHEALTHY
            if health != current.engine_health:
                current = await repo.update(session, runtime.game_id, engine_health=health, updated_at=now)
                await events.status_changed(session, current, now=now,
                                            message="" if healthy else "the engine stopped answering")
            if healthy or await repo.open_operation(session, runtime.game_id, OperationKind.RECOVER):
                return
            for kind in (OperationKind.RESTART, OperationKind.PATCH, OperationKind.START):
                if await repo.open_operation(session, runtime.game_id, kind):
                    return
            if not gone and not missed_before:
                return
            seconds = min(deps.settings.runtime_restart_backoff_seconds * 2 ** current.restart_failures,
                          deps.settings.runtime_restart_backoff_max_seconds) if current.restart_failures else 0
            await record_operation(session, runtime.game_id, OperationKind.RECOVER, requested_by="health",
                                   now=now, run_after=now + timedelta(seconds=seconds))
        log.warning("engine_down_recovering", game_id=str(runtime.game_id), failures=current.restart_failures)
        deps.wake_operations.set()
