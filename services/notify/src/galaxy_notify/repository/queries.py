"""Queries on notify's tables. They take a session or a connection and never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from galaxy_kit.db import advisory_xact_lock
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from galaxy_notify.repository.tables import (
    dead_letters,
    malformed_intents,
    notifications,
    push_consumers,
)

Executor = AsyncSession | AsyncConnection

#: The lock every intake transaction takes before a notification gets its seq (tables.py).
SEQUENCE_LOCK = ("notify.sequence", "notifications")
#: The LISTEN/NOTIFY channel that wakes push streams when a notification commits.
PUSH_CHANNEL = "galaxy_notify_push"

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class NotificationRow:
    notification_id: uuid.UUID
    seq: int
    idempotency_key: str
    user_id: uuid.UUID
    kind: str
    source: str
    payload: dict[str, Any]
    occurred_at: datetime
    created_at: datetime
    status: str
    attempts: int
    emailed_at: datetime | None


_COLUMNS = [notifications.c[name] for name in NotificationRow.__dataclass_fields__]


def _row(row: Any) -> NotificationRow:
    return NotificationRow(**row._mapping)


# -- intake ---------------------------------------------------------------------------------------

async def add_notification(session: AsyncSession, *, notification_id: uuid.UUID, idempotency_key: str,
                           user_id: uuid.UUID, kind: str, source: str, payload: dict[str, Any],
                           occurred_at: datetime, now: datetime, first_attempt_at: datetime) -> bool:
    """Store it unless its idempotency key is known; True when stored. Wakes push streams at commit."""
    await advisory_xact_lock(session, *SEQUENCE_LOCK)
    inserted = (await session.execute(
        pg_insert(notifications).values(
            notification_id=notification_id, idempotency_key=idempotency_key, user_id=user_id, kind=kind,
            source=source, payload=payload, occurred_at=occurred_at, created_at=now, status=PENDING,
            next_attempt_at=first_attempt_at,
        ).on_conflict_do_nothing(index_elements=[notifications.c.idempotency_key])
        .returning(notifications.c.seq)
    )).scalar_one_or_none()
    if inserted is None:
        return False
    # Delivered to the LISTENing streams only when this transaction commits.
    await session.execute(sa.select(sa.func.pg_notify(PUSH_CHANNEL, str(inserted))))
    return True


async def add_malformed(session: AsyncSession, *, malformed_id: uuid.UUID, payload: dict[str, Any],
                        reason: str, now: datetime) -> None:
    await session.execute(
        pg_insert(malformed_intents).values(id=malformed_id, received_at=now, payload=payload, reason=reason)
        .on_conflict_do_nothing(index_elements=[malformed_intents.c.id])
    )


async def drop_undelivered_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete the user's notifications no stream took: pending ones and dead letters (cascading)."""
    result = await session.execute(
        sa.delete(notifications).where(notifications.c.user_id == user_id,
                                       notifications.c.status.in_([PENDING, DEAD]))
    )
    return result.rowcount or 0


# -- push streams ---------------------------------------------------------------------------------

async def seq_of(db: Executor, notification_id: uuid.UUID) -> int | None:
    return (await db.execute(
        sa.select(notifications.c.seq).where(notifications.c.notification_id == notification_id)
    )).scalar_one_or_none()


async def consumer_cursor(db: Executor, consumer_id: str) -> int | None:
    return (await db.execute(
        sa.select(push_consumers.c.last_seq).where(push_consumers.c.consumer_id == consumer_id)
    )).scalar_one_or_none()


async def start_of_new_consumer(db: Executor) -> int:
    """Where a consumer never seen starts: before the oldest pending notification, else at the end."""
    oldest_pending = (await db.execute(
        sa.select(sa.func.min(notifications.c.seq)).where(notifications.c.status == PENDING)
    )).scalar_one()
    if oldest_pending is not None:
        return oldest_pending - 1
    return (await db.execute(sa.select(sa.func.coalesce(sa.func.max(notifications.c.seq), 0)))).scalar_one()


async def save_consumer(db: Executor, consumer_id: str, *, last_seq: int, connected_until: datetime | None,
                        now: datetime) -> None:
    values = {"last_seq": last_seq, "connected_until": connected_until, "updated_at": now}
    await db.execute(
        pg_insert(push_consumers).values(consumer_id=consumer_id, **values)
        .on_conflict_do_update(index_elements=[push_consumers.c.consumer_id], set_=values)
    )


async def after(db: Executor, seq: int, limit: int) -> list[NotificationRow]:
    rows = await db.execute(
        sa.select(*_COLUMNS).where(notifications.c.seq > seq).order_by(notifications.c.seq).limit(limit)
    )
    return [_row(r) for r in rows]


async def mark_delivered(db: Executor, seqs: list[int], now: datetime) -> None:
    await db.execute(
        sa.update(notifications)
        .where(notifications.c.seq.in_(seqs), notifications.c.status == PENDING)
        .values(status=DELIVERED, delivered_at=now, next_attempt_at=None, last_error=None)
    )


async def any_consumer_connected(db: Executor, now: datetime) -> bool:
    return (await db.execute(
        sa.select(sa.exists().where(push_consumers.c.connected_until > now))
    )).scalar_one()


# -- retries --------------------------------------------------------------------------------------

async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[NotificationRow]:
    rows = await session.execute(
        sa.select(*_COLUMNS)
        .where(notifications.c.status == PENDING, notifications.c.next_attempt_at <= now)
        .order_by(notifications.c.next_attempt_at).limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_row(r) for r in rows]


async def count_attempt(session: AsyncSession, notification_id: uuid.UUID, *, attempts: int, error: str,
                        next_attempt_at: datetime) -> None:
    await session.execute(
        sa.update(notifications).where(notifications.c.notification_id == notification_id)
        .values(attempts=attempts, last_error=error, next_attempt_at=next_attempt_at)
    )


async def dead_letter(session: AsyncSession, notification_id: uuid.UUID, *, attempts: int, reason: str,
                      now: datetime) -> None:
    await session.execute(
        sa.update(notifications).where(notifications.c.notification_id == notification_id)
        .values(status=DEAD, attempts=attempts, last_error=reason, next_attempt_at=None)
    )
    await session.execute(
        pg_insert(dead_letters).values(dead_letter_id=uuid.uuid4(), notification_id=notification_id,
                                       archived_at=now, reason=reason)
        .on_conflict_do_nothing(index_elements=[dead_letters.c.notification_id])
    )


async def mark_emailed(session: AsyncSession, notification_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        sa.update(notifications).where(notifications.c.notification_id == notification_id,
                                       notifications.c.emailed_at.is_(None))
        .values(emailed_at=now)
    )


# -- admin ----------------------------------------------------------------------------------------

async def page_of_notifications(db: Executor, *, offset: int, limit: int) -> tuple[list[NotificationRow], int]:
    total = (await db.execute(sa.select(sa.func.count()).select_from(notifications))).scalar_one()
    rows = await db.execute(
        sa.select(*_COLUMNS).order_by(notifications.c.created_at.desc(), notifications.c.seq.desc())
        .offset(offset).limit(limit)
    )
    return [_row(r) for r in rows], total


async def get_notification(db: Executor, notification_id: uuid.UUID) -> NotificationRow | None:
    row = (await db.execute(
        sa.select(*_COLUMNS).where(notifications.c.notification_id == notification_id)
    )).first()
    return None if row is None else _row(row)


async def page_of_dead_letters(db: Executor, *, offset: int, limit: int) -> tuple[list[Any], int]:
    total = (await db.execute(sa.select(sa.func.count()).select_from(dead_letters))).scalar_one()
    rows = await db.execute(
        sa.select(dead_letters).order_by(dead_letters.c.archived_at.desc(), dead_letters.c.dead_letter_id)
        .offset(offset).limit(limit)
    )
    return list(rows), total


async def page_of_malformed(db: Executor, *, offset: int, limit: int) -> tuple[list[Any], int]:
    total = (await db.execute(sa.select(sa.func.count()).select_from(malformed_intents))).scalar_one()
    rows = await db.execute(
        sa.select(malformed_intents).order_by(malformed_intents.c.received_at.desc(), malformed_intents.c.id)
        .offset(offset).limit(limit)
    )
    return list(rows), total
