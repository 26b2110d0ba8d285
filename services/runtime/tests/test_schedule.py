"""The turn clock with time as an input: a slot runs once even with two replicas claiming at the same
moment; downtime gives one catch-up tick, not a burst; an early turn takes its slot's place."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from galaxy_kit import db
from galaxy_runtime.domain import turns
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.repository.tables import engine_versions, runtimes, turn_ticks

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # far from the real clock: the service's own scheduler never sees these
EVERY_5 = "*/5 * * * *"


def replica(dsn: str, name: str) -> Deps:
    """A second process's view: its own engine and pool, as another runtime replica would have."""
    engine = db.create_engine(dsn)
    # Reads connects on first use, and the scheduler never reads through it: nothing to close.
    return Deps(engine=engine, sessions=db.session_factory(engine), reads=db.Reads(dsn), settings=None,
                driver=None, engines=None, members=None, replica=name)


async def arrange(deps: Deps, games: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(games)]
    async with db.transaction(deps.sessions) as session:
        await session.execute(sa.insert(engine_versions).values(version="1.0.0", major=1, minor=0, patch=0,
                                                                image_ref="local", enabled=True,
                                                                created_at=T0, updated_at=T0))
        await session.execute(sa.insert(runtimes), [{
            "game_id": game, "status": "running", "engine_version": "1.0.0", "image_ref": "local", "turn_schedule": EVERY_5,
            "roster": json.loads('[{"user_id": "u", "race": "R"}]'), "seed": 1, "next_slot_at": T0,
            "created_at": T0, "updated_at": T0} for game in ids])
    return ids


async def ticks(deps: Deps) -> list:
    async with deps.engine.connect() as connection:
        return list((await connection.execute(sa.select(turn_ticks).order_by(turn_ticks.c.slot_at))).all())


async def finish_open_ticks(deps: Deps) -> None:
    async with db.transaction(deps.sessions) as session:
        await session.execute(sa.update(turn_ticks).values(status="done"))


async def next_slots(deps: Deps) -> set[datetime]:
    async with deps.engine.connect() as connection:
        return set((await connection.execute(sa.select(runtimes.c.next_slot_at))).scalars())


async def test_two_replicas_never_claim_one_slot_twice(quiet_runtime):
    a, b = replica(quiet_runtime.database_url, "a"), replica(quiet_runtime.database_url, "b")
    try:
        games = await arrange(a, 60)
        now = T0 + timedelta(seconds=30)
        # Both replicas poll at the same moment, in small batches, until a round finds nothing due.
        claimed: list = []
        while True:
            rounds = await asyncio.gather(*(turns.claim_due_slots(d, now=now, limit=7) for d in (a, b) * 3))
            if not any(rounds):
                break
            claimed.extend(c for batch in rounds for c in batch)
        rows = await ticks(a)
        assert len(rows) == len(games) == len(claimed)
        assert {r.game_id for r in rows} == set(games)
        assert {(r.slot_at, r.kind, r.turn) for r in rows} == {(T0, "scheduled", 1)}
        assert {r.claimed_by for r in rows} <= {"a", "b"}
        assert await next_slots(a) == {T0 + timedelta(minutes=5)}
        # Polling again before the next slot claims nothing.
        assert await turns.claim_due_slots(b, now=now + timedelta(minutes=4), limit=100) == []
    finally:
        await a.engine.dispose()
        await b.engine.dispose()


async def test_after_downtime_one_catch_up_tick_not_a_burst(quiet_runtime):
    deps = replica(quiet_runtime.database_url, "a")
    try:
        (_game,) = await arrange(deps, 1)
        await turns.claim_due_slots(deps, now=T0, limit=10)
        # While a tick of the game is open, a due slot waits instead of stacking a second tick.
        assert await turns.claim_due_slots(deps, now=T0 + timedelta(minutes=5), limit=10) == []
        # A claim whose replica died (never finished) is taken over after STALE_CLAIM, once.
        taken = await turns.claim_retries(deps, now=T0 + turns.STALE_CLAIM + timedelta(seconds=1), limit=10)
        assert [(t.slot_at, t.status) for t in taken] == [(T0, "claimed")]
        assert await turns.claim_retries(deps, now=T0 + turns.STALE_CLAIM + timedelta(seconds=2), limit=10) == []
        await finish_open_ticks(deps)
        back = T0 + timedelta(minutes=31)  # slots 00:05 … 00:30 were missed
        (tick,) = [c.tick for c in await turns.claim_due_slots(deps, now=back, limit=10)]
        assert (tick.slot_at, tick.kind) == (T0 + timedelta(minutes=5), "catch_up")
        assert await next_slots(deps) == {T0 + timedelta(minutes=35)}
        await finish_open_ticks(deps)
        assert await turns.claim_due_slots(deps, now=back + timedelta(seconds=1), limit=10) == []
        assert len(await ticks(deps)) == 2
    finally:
        await deps.engine.dispose()


async def test_an_early_turn_takes_the_next_slot_which_then_does_not_run(quiet_runtime):
    deps = replica(quiet_runtime.database_url, "a")
    try:
        (game,) = await arrange(deps, 1)
        early = await turns.claim_early(deps, game_id=game, now=T0 - timedelta(minutes=2))
        assert (early.slot_at, early.kind, early.turn) == (T0, "early", 1)
        assert await next_slots(deps) == {T0 + timedelta(minutes=5)}
        # A second "all final" while the early turn runs does not claim another.
        assert await turns.claim_early(deps, game_id=game, now=T0 - timedelta(minutes=1)) is None
        await finish_open_ticks(deps)
        assert await turns.claim_due_slots(deps, now=T0 + timedelta(seconds=1), limit=10) == []
        (later,) = [c.tick for c in await turns.claim_due_slots(deps, now=T0 + timedelta(minutes=5), limit=10)]
        assert (later.slot_at, later.kind) == (T0 + timedelta(minutes=5), "scheduled")
        assert [r.kind for r in await ticks(deps)] == ["early", "scheduled"]
    finally:
        await deps.engine.dispose()


async def test_the_health_watcher_leaves_an_engine_running_a_turn_alone(quiet_runtime):
    """An engine busy with its turn may be slow to answer /v1/health: it is not judged (nor
    restarted) until the turn is recorded; a game whose tick only waits for a retry is checked."""
    from galaxy_runtime.repository import runtimes as repo

    deps = replica(quiet_runtime.database_url, "a")
    try:
        busy, idle, retrying = await arrange(deps, 3)
        claimed = await turns.claim_due_slots(deps, now=T0, limit=10)
        assert {c.tick.game_id for c in claimed} == {busy, idle, retrying}
        async with db.transaction(deps.sessions) as session:
            await session.execute(sa.update(turn_ticks).where(turn_ticks.c.game_id == idle).values(status="done"))
            await session.execute(sa.update(turn_ticks).where(turn_ticks.c.game_id == retrying)
                                  .values(status="retry"))
        now = T0 + timedelta(seconds=1)
        async with db.transaction(deps.sessions) as session:
            watched = await repo.claim_to_observe(session, now, now, 200)
        assert {r.game_id for r in watched} == {idle, retrying}
        await finish_open_ticks(deps)
        later = now + timedelta(seconds=10)
        async with db.transaction(deps.sessions) as session:
            watched = await repo.claim_to_observe(session, later, later, 200)
        assert {r.game_id for r in watched} == {busy, idle, retrying}
    finally:
        await deps.engine.dispose()
