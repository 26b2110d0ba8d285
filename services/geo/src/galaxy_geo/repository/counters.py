"""Queries on geo's users and country counters. Nothing here commits (the domain does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_geo.repository.tables import country_counters, users


@dataclass(frozen=True, slots=True)
class CountDelta:
    """What one batch adds to one (user, country) counter."""

    user_id: uuid.UUID
    country: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Counter:
    country: str
    count: int
    last_seen_at: datetime


async def lock_live_users(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Make sure each user has a row, lock the rows in id order, return the users not forgotten.

    The user row is what a deletion locks too, so counting and forgetting a user never interleave;
    taking the locks in one order keeps concurrent batches from deadlocking.
    """
    ordered = sorted(set(user_ids))
    await session.execute(
        insert(users)
        .values([{"user_id": u} for u in ordered])
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    rows = await session.execute(
        sa.select(users.c.user_id, users.c.forgotten_at)
        .where(users.c.user_id.in_(ordered))
        .order_by(users.c.user_id)
        .with_for_update()
    )
    return {row.user_id for row in rows if row.forgotten_at is None}


async def add_counts(session: AsyncSession, deltas: Iterable[CountDelta]) -> None:
    """One upsert for the whole batch: new counters start at the delta, existing ones grow by it."""
    values = [
        {
            "user_id": d.user_id,
            "country": d.country,
            "count": d.count,
            "first_seen_at": d.first_seen_at,
            "last_seen_at": d.last_seen_at,
        }
        for d in sorted(deltas, key=lambda d: (d.user_id, d.country))
    ]
    if not values:
        return
    statement = insert(country_counters).values(values)
    existing = country_counters.c
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[existing.user_id, existing.country],
            set_={
                "count": existing.count + statement.excluded.count,
                "first_seen_at": sa.func.least(
                    existing.first_seen_at, statement.excluded.first_seen_at
                ),
                "last_seen_at": sa.func.greatest(
                    existing.last_seen_at, statement.excluded.last_seen_at
                ),
            },
        )
    )


async def recent_counts(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], *, since: datetime
) -> dict[uuid.UUID, tuple[str | None, dict[str, int]]]:
    """Per user: the country last reported to account, and the counts of countries seen since
    `since`."""
    ids = list(user_ids)
    found: dict[uuid.UUID, tuple[str | None, dict[str, int]]] = {}
    if not ids:
        return found
    rows = await session.execute(
        sa.select(
            users.c.user_id,
            users.c.reported_country,
            country_counters.c.country,
            country_counters.c.count,
        )
        .select_from(
            users.outerjoin(
                country_counters,
                sa.and_(
                    country_counters.c.user_id == users.c.user_id,
                    country_counters.c.last_seen_at >= since,
                ),
            )
        )
        .where(users.c.user_id.in_(ids))
    )
    for row in rows:
        _reported, counts = found.setdefault(row.user_id, (row.reported_country, {}))
        if row.country is not None:
            counts[row.country] = row.count
    return found


async def mark_reported(
    session: AsyncSession, user_id: uuid.UUID, country: str, at: datetime
) -> None:
    await session.execute(
        sa.update(users)
        .where(users.c.user_id == user_id, users.c.forgotten_at.is_(None))
        .values(reported_country=country, reported_at=at)
    )


async def forget(session: AsyncSession, user_id: uuid.UUID, at: datetime) -> int:
    """Tombstone the user (locking its row) and delete its counters; how many were deleted."""
    statement = insert(users).values(user_id=user_id, forgotten_at=at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[users.c.user_id],
            set_={
                "forgotten_at": sa.func.coalesce(
                    users.c.forgotten_at, statement.excluded.forgotten_at
                ),
                "reported_country": None,
                "reported_at": None,
            },
        )
    )
    deleted = await session.execute(
        sa.delete(country_counters).where(country_counters.c.user_id == user_id)
    )
    return deleted.rowcount or 0


#: The user's row (if any) and its counters, most seen first: one statement, no transaction.
LIST_COUNTERS = Query.compile(
    sa.select(
        users.c.forgotten_at,
        country_counters.c.country,
        country_counters.c.count,
        country_counters.c.last_seen_at,
    )
    .select_from(users.outerjoin(country_counters, country_counters.c.user_id == users.c.user_id))
    .where(users.c.user_id == sa.bindparam("user_id", type_=sa.Uuid))
    .order_by(country_counters.c.count.desc(), country_counters.c.country)
)
