"""Turns: the cron slots, early turns, forced turns and the retries of a turn the engine missed.

Rules (docs/runtime.md, "Turns"):
- A tick is a row of turn_ticks keyed by (game_id, slot_at); inserting it is claiming it, so a slot
  runs once however many replicas poll. The scheduler claims due games with SKIP LOCKED and moves
  `next_slot_at` to the first slot strictly after now in the same transaction.
- After downtime the missed slots collapse into one `catch_up` tick (the oldest missed slot's row),
  and the schedule continues from the first slot after now: never a burst of turns.
- One tick per game at a time: a game with a claimed or retrying tick is not claimed again until
  that tick is done.
- An early turn (every active race marked its orders final) takes the row of the game's next slot,
  which therefore does not run again; the schedule continues from the slot after it.
- A forced turn (admin) runs now with a row of its own and leaves the schedule as it was.
- The engine runs turn n once (POST /v1/turns/{n} is idempotent), so a retried tick is safe.
Time is an input: every function takes `now`.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.logging import get_logger
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_runtime.clients import EngineDown
from galaxy_runtime.domain import events, schedule
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.runtimes import GAME_LOCK
from galaxy_runtime.domain.vocabulary import NotifyKind, RuntimeStatus, TickKind, TickStatus
from galaxy_runtime.repository import runtimes as repo
from galaxy_runtime.repository.tables import turn_ticks

log = get_logger(__name__)

#: A tick the engine did not answer is retried after 1, 2, 4, 8, 16 s, then given up (the next slot
#: or a forced turn runs the same turn number again).
TICK_MAX_ATTEMPTS = 6
OPEN_TICKS = (TickStatus.CLAIMED, TickStatus.RETRY)


@dataclass(frozen=True)
class Claimed:
    tick: Row
    endpoint: str | None


@dataclass(frozen=True)
class TurnOutcome:
    turn: int
    ran: bool
    finished: bool


async def _games_with_open_ticks(session: AsyncSession, game_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not game_ids:
        return set()
    query = sa.select(turn_ticks.c.game_id).where(turn_ticks.c.game_id.in_(game_ids),
                                                  turn_ticks.c.status.in_(OPEN_TICKS))
    return set((await session.execute(query)).scalars())


def _tick_values(runtime: Row, slot_at: datetime, kind: TickKind, now: datetime, replica: str) -> dict:
    return {"game_id": runtime.game_id, "slot_at": slot_at, "kind": kind, "turn": runtime.current_turn + 1,
                "status": TickStatus.CLAIMED, "run_after": now, "claimed_by": replica, "claimed_at": now}


async def claim_due_slots(deps: Deps, *, now: datetime, limit: int) -> list[Claimed]:
    """Claim the ticks of every running game whose slot is due (this replica's share, up to `limit`).

    One transaction of three statements whatever the number of games (lock the due games, insert
    their ticks, move their slots): the time between a slot and its turns does not grow with the
    games due in it. Each tick comes back with the game's `endpoint` as read under the claim, so
    running it needs no further read."""
    async with transaction(deps.sessions) as session:
        due = await repo.claim_due(session, now, limit)
        rows, moves = [], {}
        for runtime in due:
            following = schedule.next_slot(runtime.turn_schedule, runtime.next_slot_at)
            kind = TickKind.CATCH_UP if following <= now else TickKind.SCHEDULED
            rows.append((runtime.game_id, runtime.next_slot_at, kind, runtime.current_turn + 1))
            moves[runtime.game_id] = schedule.next_slot(runtime.turn_schedule, max(now, runtime.next_slot_at))
        ticks = await repo.claim_ticks(session, rows, replica=deps.replica, now=now)
        await repo.move_slots(session, moves, now=now)
    endpoints = {runtime.game_id: runtime.endpoint for runtime in due}
    return [Claimed(tick, endpoints[tick.game_id]) for tick in ticks]


async def claim_early(deps: Deps, *, game_id: uuid.UUID, now: datetime) -> Row | None:
    """Claim the game's next slot for a turn now (all orders final); None when it cannot run now."""
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, game_id)
        runtime = await repo.get(session, game_id, for_update=True)
        if runtime is None or runtime.status != RuntimeStatus.RUNNING or runtime.next_slot_at is None:
            return None
        if await _games_with_open_ticks(session, [game_id]):
            return None
        tick = await repo.claim_tick(session, **_tick_values(runtime, runtime.next_slot_at, TickKind.EARLY, now,
                                                             deps.replica))
        if tick is not None:
            await repo.update(session, game_id, updated_at=now, next_slot_at=schedule.next_slot(
                runtime.turn_schedule, max(now, runtime.next_slot_at)))
        return tick


async def claim_forced(deps: Deps, *, game_id: uuid.UUID, slot_at: datetime, now: datetime) -> Row | None:
    """The forced tick's row (claimed now, or the one an earlier attempt claimed); None while another tick runs."""
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, game_id)
        runtime = await repo.get(session, game_id, for_update=True)
        existing = (await session.execute(sa.select(turn_ticks).where(
            turn_ticks.c.game_id == game_id, turn_ticks.c.slot_at == slot_at))).one_or_none()
        if existing is not None:
            return existing
        if await _games_with_open_ticks(session, [game_id]):
            return None
        return await repo.claim_tick(session, **_tick_values(runtime, slot_at, TickKind.FORCED, now, deps.replica))


#: A tick still `claimed` this long after its claim lost its replica (crash, kill): it is taken over.
STALE_CLAIM = timedelta(minutes=2)


async def claim_retries(deps: Deps, *, now: datetime, limit: int) -> list[Row]:
    """Ticks due for another try, and claimed ticks whose replica died before finishing them."""
    async with transaction(deps.sessions) as session:
        return await repo.claim_retries(session, now, limit, deps.replica, stale_before=now - STALE_CLAIM)


async def run_tick(deps: Deps, tick: Row, *, clock, endpoint: str | None = None,
                   gate: asyncio.Semaphore | None = None) -> TurnOutcome | None:
    """Ask the engine to run the tick's turn, then record it; a missed engine schedules a retry.

    No database work happens before the engine call (the claim read the endpoint): `started` is the
    moment the turn was asked for, what tick precision measures. `gate` bounds how many outcomes are
    recorded at once (each needs a pooled connection), never the engine calls themselves."""
    gate = gate or asyncio.Semaphore(1)
    if endpoint is None:
        endpoint = (await repo.get_fresh(deps, tick.game_id)).endpoint
    started = clock()
    try:
        if endpoint is None:
            raise EngineDown("the game has no engine")
        reply = await deps.engines.call(endpoint, "POST", f"/v1/turns/{tick.turn}", repeatable=True)
    except EngineDown as down:
        async with gate:
            await _tick_failed(deps, tick, str(down), started=started, now=clock(),
                               retry=tick.attempts + 1 < TICK_MAX_ATTEMPTS)
        return None
    if reply.status != 200:
        async with gate:
            await _tick_failed(deps, tick, f"engine answered {reply.status}: {reply.body[:300]!r}",
                               started=started, now=clock(), retry=False)
        return None
    answer = reply.json()
    outcome = TurnOutcome(int(answer["turn"]), bool(answer["ran"]),
                          (answer.get("game") or {}).get("status") == "finished")
    async with gate:
        await _tick_done(deps, tick, outcome, started=started, now=clock())
    return outcome


async def _tick_failed(deps: Deps, tick: Row, error: str, *, started: datetime, now: datetime,
                       retry: bool) -> None:
    log.warning("turn_failed", game_id=str(tick.game_id), turn=tick.turn, kind=tick.kind, error=error, retry=retry)
    backoff = timedelta(seconds=2 ** tick.attempts)  # 1, 2, 4, ... s
    async with transaction(deps.sessions) as session:
        await repo.update_tick(session, tick.game_id, tick.slot_at, error=error[:1000], started_at=started,
                               attempts=tick.attempts + 1,
                               status=TickStatus.RETRY if retry else TickStatus.FAILED,
                               run_after=now + backoff, finished_at=None if retry else now)


async def _tick_done(deps: Deps, tick: Row, outcome: TurnOutcome, *, started: datetime, now: datetime) -> None:
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, GAME_LOCK, tick.game_id)
        runtime = await repo.get(session, tick.game_id, for_update=True)
        await repo.update_tick(session, tick.game_id, tick.slot_at, status=TickStatus.DONE, finished_at=now,
                               error=None, started_at=started, attempts=tick.attempts + 1)
        changes: dict = {"current_turn": max(runtime.current_turn, outcome.turn), "updated_at": now}
        if outcome.finished and runtime.status in (RuntimeStatus.RUNNING, RuntimeStatus.PAUSED):
            changes.update(status=RuntimeStatus.FINISHED, next_slot_at=None, finished_at=now)
        updated = await repo.update(session, tick.game_id, **changes)
        if not outcome.ran and updated.current_turn == runtime.current_turn and updated.status == runtime.status:
            return  # the turn had run before (a retried tick): nothing new to tell
        await events.status_changed(session, updated, now=now)
        await events.tell_members(session, updated, kind=NotifyKind.TURN_COMPLETED,
                                  params={"turn": outcome.turn}, now=now)
        if updated.status == RuntimeStatus.FINISHED and runtime.status != RuntimeStatus.FINISHED:
            await events.tell_members(session, updated, kind=NotifyKind.GAME_FINISHED,
                                      params={"turn": outcome.turn}, now=now)
    log.info("turn_done", game_id=str(tick.game_id), turn=outcome.turn, kind=tick.kind, ran=outcome.ran,
             slot_at=tick.slot_at.isoformat(), finished=outcome.finished)


class TurnRunner:
    """Runs claimed ticks as tasks of this process (the scheduler's and the early turns')."""

    def __init__(self, deps: Deps, clock, *, concurrency: int = 64) -> None:
        self._deps = deps
        self._clock = clock
        self._tasks: set[asyncio.Task] = set()
        #: Every due turn is asked for at once; recording the outcomes is bounded so a minute with
        #: many due games cannot exhaust the database pool (each needs a connection for its transaction).
        self._gate = asyncio.Semaphore(concurrency)

    def spawn(self, tick: Row, endpoint: str | None = None) -> None:
        task = asyncio.create_task(self._run(tick, endpoint), name=f"tick-{tick.game_id}-{tick.turn}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, tick: Row, endpoint: str | None) -> None:
        try:
            await run_tick(self._deps, tick, clock=self._clock, endpoint=endpoint, gate=self._gate)
        except Exception as error:
            log.exception("tick_crashed", game_id=str(tick.game_id), error=repr(error))

    async def early(self, game_id: uuid.UUID) -> None:
        tick = await claim_early(self._deps, game_id=game_id, now=self._clock())
        if tick is not None:
            self.spawn(tick)

    async def drain(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
