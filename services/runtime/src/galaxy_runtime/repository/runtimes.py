"""runtimes, runtime_operations and turn_ticks; nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query, ReadRow, Reads
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from galaxy_runtime.domain.vocabulary import LIVE, OperationStatus, RuntimeStatus, TickStatus
from galaxy_runtime.repository.tables import runtime_operations, runtimes, turn_ticks

Executor = AsyncSession | AsyncConnection
OPEN = (OperationStatus.PENDING, OperationStatus.RUNNING)


# ---- runtimes ----

async def get(db: Executor, game_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    query = sa.select(runtimes).where(runtimes.c.game_id == game_id)
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).one_or_none()


_READ = Query.compile(sa.select(runtimes).where(runtimes.c.game_id == sa.bindparam("game_id")))


async def read(reads: Reads, game_id: uuid.UUID) -> ReadRow | None:
    return await reads.fetchrow(_READ, game_id=game_id)


async def insert_runtime(session: AsyncSession, **values) -> Row:
    return (await session.execute(sa.insert(runtimes).values(**values).returning(runtimes))).one()


async def update(session: AsyncSession, game_id: uuid.UUID, **values) -> Row:
    query = sa.update(runtimes).where(runtimes.c.game_id == game_id).values(**values).returning(runtimes)
    return (await session.execute(query)).one()


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Row]:
    """Running games whose slot is due and that have no tick open, locked; rows another replica
    holds are skipped, not waited for (one statement for the whole round)."""
    open_tick = sa.exists().where(turn_ticks.c.game_id == runtimes.c.game_id,
                                  turn_ticks.c.status.in_([TickStatus.CLAIMED, TickStatus.RETRY]))
    query = (
        sa.select(runtimes)
        .where(runtimes.c.status == RuntimeStatus.RUNNING, runtimes.c.next_slot_at <= now, ~open_tick)
        .order_by(runtimes.c.next_slot_at).limit(limit)
        .with_for_update(of=runtimes, skip_locked=True)
    )
    return list((await session.execute(query)).all())


_MOVE_SLOTS = sa.text(
    "UPDATE runtime.runtimes AS r SET next_slot_at = u.next_slot_at, updated_at = :now "
    "FROM unnest(:games, :next_slots) AS u(game_id, next_slot_at) WHERE r.game_id = u.game_id"
).bindparams(sa.bindparam("games", type_=ARRAY(UUID(as_uuid=True))),
             sa.bindparam("next_slots", type_=ARRAY(sa.DateTime(timezone=True))),
             sa.bindparam("now", type_=sa.DateTime(timezone=True)))


async def move_slots(session: AsyncSession, next_slots: dict[uuid.UUID, datetime], *, now: datetime) -> None:
    """Set each game's `next_slot_at` (games locked by the caller): one statement whose text does not
    depend on the number of games (arrays, unnested), so it is compiled and prepared once."""
    if next_slots:
        await session.execute(_MOVE_SLOTS, {"games": list(next_slots), "next_slots": list(next_slots.values()),
                                            "now": now})


async def earliest_slot(db: Executor) -> datetime | None:
    query = sa.select(sa.func.min(runtimes.c.next_slot_at)).where(runtimes.c.status == RuntimeStatus.RUNNING)
    return (await db.execute(query)).scalar()


async def claim_to_observe(session: AsyncSession, now: datetime, older_than: datetime, limit: int) -> list[Row]:
    """Live games not looked at since `older_than`, stamped as observed now (one replica checks each).

    A game whose engine is running a turn right now (a tick `claimed`) is left for the next pass: a
    busy engine may be slow to answer its health check, and the turn's own deadline and retries
    already tell whether it is down."""
    turn_in_flight = sa.exists().where(turn_ticks.c.game_id == runtimes.c.game_id,
                                       turn_ticks.c.status == TickStatus.CLAIMED)
    due = (
        sa.select(runtimes.c.game_id)
        .where(runtimes.c.status.in_(list(LIVE)), ~turn_in_flight,
               sa.or_(runtimes.c.last_observed_at.is_(None), runtimes.c.last_observed_at < older_than))
        .limit(limit).with_for_update(of=runtimes, skip_locked=True)
    )
    query = (sa.update(runtimes).where(runtimes.c.game_id.in_(due.scalar_subquery()))
             .values(last_observed_at=now).returning(runtimes))
    return list((await session.execute(query)).all())


async def with_engines(db: Executor) -> dict[uuid.UUID, Row]:
    query = sa.select(runtimes).where(runtimes.c.engine_ref.is_not(None))
    return {row.game_id: row for row in (await db.execute(query)).all()}


# ---- operations ----

async def insert_operation(session: AsyncSession, **values) -> Row:
    query = sa.insert(runtime_operations).values(**values).returning(runtime_operations)
    return (await session.execute(query)).one()


async def get_operation(db: Executor, operation_id: uuid.UUID) -> Row | None:
    query = sa.select(runtime_operations).where(runtime_operations.c.operation_id == operation_id)
    return (await db.execute(query)).one_or_none()


async def open_operation(db: Executor, game_id: uuid.UUID, op: str) -> Row | None:
    query = sa.select(runtime_operations).where(
        runtime_operations.c.game_id == game_id, runtime_operations.c.op == op,
        runtime_operations.c.status.in_(OPEN),
    ).order_by(runtime_operations.c.started_at.desc()).limit(1)
    return (await db.execute(query)).first()


async def claim_operations(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
    """Claim due operations, at most one per game and never beside another running one of that game.

    Pending rows whose run_after passed, and running rows whose lease lapsed (their replica died),
    oldest first; SKIP LOCKED lets replicas poll side by side.
    """
    ops = runtime_operations
    busy = sa.select(ops.c.game_id).where(ops.c.status == OperationStatus.RUNNING, ops.c.lease_until >= now)
    older = ops.alias("older")
    query = (
        sa.select(ops.c.operation_id)
        .where(
            sa.or_(sa.and_(ops.c.status == OperationStatus.PENDING, ops.c.run_after <= now),
                   sa.and_(ops.c.status == OperationStatus.RUNNING, ops.c.lease_until < now)),
            ops.c.game_id.not_in(busy),
            ~sa.exists().where(older.c.game_id == ops.c.game_id, older.c.status.in_(OPEN),
                               older.c.started_at < ops.c.started_at),
        )
        .order_by(ops.c.run_after).limit(limit).with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(query)).scalars())
    if not ids:
        return []
    update = (
        sa.update(ops).where(ops.c.operation_id.in_(ids))
        .values(status=OperationStatus.RUNNING, attempts=ops.c.attempts + 1, lease_until=lease_until)
        .returning(ops)
    )
    return list((await session.execute(update)).all())


async def finish_operation(session: AsyncSession, operation_id: uuid.UUID, **values) -> Row:
    query = (sa.update(runtime_operations).where(runtime_operations.c.operation_id == operation_id)
             .values(**values).returning(runtime_operations))
    return (await session.execute(query)).one()


async def fail_open_operations(session: AsyncSession, game_id: uuid.UUID, *, error: str, now: datetime) -> None:
    await session.execute(
        sa.update(runtime_operations)
        .where(runtime_operations.c.game_id == game_id, runtime_operations.c.status == OperationStatus.PENDING)
        .values(status=OperationStatus.FAILED, error=error, finished_at=now)
    )


# ---- turn ticks ----

async def claim_tick(session: AsyncSession, **values) -> Row | None:
    """The new tick, or None when this (game, slot) was claimed before: a slot runs once."""
    query = insert(turn_ticks).values(**values).on_conflict_do_nothing().returning(turn_ticks)
    return (await session.execute(query)).one_or_none()


_CLAIM_TICKS = sa.text(
    "INSERT INTO runtime.turn_ticks (game_id, slot_at, kind, turn, status, run_after, claimed_by, claimed_at) "
    "SELECT u.game_id, u.slot_at, u.kind, u.turn, :status, :now, :replica, :now "
    "FROM unnest(:games, :slots, :kinds, :turns) AS u(game_id, slot_at, kind, turn) "
    "ON CONFLICT DO NOTHING RETURNING " + ", ".join(column.name for column in turn_ticks.c)
).bindparams(
    sa.bindparam("games", type_=ARRAY(UUID(as_uuid=True))),
    sa.bindparam("slots", type_=ARRAY(sa.DateTime(timezone=True))),
    sa.bindparam("kinds", type_=ARRAY(sa.Text)), sa.bindparam("turns", type_=ARRAY(sa.Integer)),
    sa.bindparam("status", type_=sa.Text), sa.bindparam("replica", type_=sa.Text),
    sa.bindparam("now", type_=sa.DateTime(timezone=True)),
).columns(*turn_ticks.c)


async def claim_ticks(session: AsyncSession, ticks: list[tuple[uuid.UUID, datetime, str, int]], *,
                      replica: str, now: datetime) -> list[Row]:
    """Claim the ticks (game, slot, kind, turn); the new ones come back, a (game, slot) claimed before
    is left out. One statement whose text does not depend on the number of ticks."""
    if not ticks:
        return []
    games, slots, kinds, turns = (list(column) for column in zip(*ticks, strict=True))
    return list((await session.execute(_CLAIM_TICKS, {
        "games": games, "slots": slots, "kinds": [str(kind) for kind in kinds], "turns": turns,
        "status": str(TickStatus.CLAIMED), "replica": replica, "now": now})).all())


async def update_tick(session: AsyncSession, game_id: uuid.UUID, slot_at: datetime, **values) -> Row:
    query = (sa.update(turn_ticks).where(turn_ticks.c.game_id == game_id, turn_ticks.c.slot_at == slot_at)
             .values(**values).returning(turn_ticks))
    return (await session.execute(query)).one()


async def claim_retries(session: AsyncSession, now: datetime, limit: int, replica: str, *,
                        stale_before: datetime) -> list[Row]:
    due = (sa.select(turn_ticks.c.game_id, turn_ticks.c.slot_at)
           .where(sa.or_(sa.and_(turn_ticks.c.status == TickStatus.RETRY, turn_ticks.c.run_after <= now),
                         sa.and_(turn_ticks.c.status == TickStatus.CLAIMED, turn_ticks.c.claimed_at < stale_before)))
           .limit(limit).with_for_update(skip_locked=True)).cte("due")
    query = (
        sa.update(turn_ticks)
        .where(turn_ticks.c.game_id == due.c.game_id, turn_ticks.c.slot_at == due.c.slot_at)
        .values(status=TickStatus.CLAIMED, claimed_by=replica, claimed_at=now)
        .returning(turn_ticks)
    )
    return list((await session.execute(query)).all())


async def get_fresh(deps, game_id: uuid.UUID) -> Row:
    """The runtime as committed now, read outside any transaction."""
    async with deps.engine.connect() as connection:
        return await get(connection, game_id)
