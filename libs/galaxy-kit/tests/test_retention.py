"""Retention of the event tables against a real Postgres: what is pruned, what never is, replicas."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from galaxy_kit.retention import RetentionWorker, event_table_rules
from galaxy_kit.settings import (
    DEFAULT_INBOX_RETENTION_SECONDS,
    DEFAULT_OUTBOX_RETENTION_SECONDS,
    ServiceSettings,
)
from pydantic import ValidationError

DAY = timedelta(days=1)


def rules(event_db):
    return event_table_rules(
        event_db.outbox, event_db.inbox, outbox_keep_for=7 * DAY, inbox_keep_for=14 * DAY
    )


async def add_outbox_row(conn, event_db, *, age: timedelta, published: bool, attempts: int = 1) -> int:
    t = event_db.outbox
    when = sa.func.now() - sa.literal(age, sa.Interval)
    return (
        await conn.execute(
            sa.insert(t)
            .values(
                event_id=uuid.uuid4(), topic="t", key="k", event_type="x", payload=b"p",
                created_at=when, published_at=when if published else None, attempts=attempts,
                last_error=None if published else "MessageSizeTooLargeError",
            )
            .returning(t.c.id)
        )
    ).scalar_one()


async def add_inbox_row(conn, event_db, *, age: timedelta) -> uuid.UUID:
    event_id = uuid.uuid4()
    await conn.execute(
        sa.insert(event_db.inbox).values(
            consumer_group="g", event_id=event_id, topic="t", partition=0, offset=0,
            processed_at=sa.func.now() - sa.literal(age, sa.Interval),
        )
    )
    return event_id


async def test_published_outbox_and_old_inbox_rows_are_pruned_unpublished_and_parked_never(event_db):
    async with event_db.engine.begin() as conn:
        old_published = [await add_outbox_row(conn, event_db, age=8 * DAY, published=True) for _ in range(5)]
        recent_published = await add_outbox_row(conn, event_db, age=6 * DAY, published=True)
        old_pending = await add_outbox_row(conn, event_db, age=30 * DAY, published=False, attempts=0)
        old_parked = await add_outbox_row(conn, event_db, age=30 * DAY, published=False, attempts=5)
        old_inbox = [await add_inbox_row(conn, event_db, age=15 * DAY) for _ in range(3)]
        recent_inbox = await add_inbox_row(conn, event_db, age=13 * DAY)

    worker = RetentionWorker(event_db.engine, rules(event_db), interval=60, batch_size=2)
    deleted = await worker.prune_once()

    assert deleted == {"evt_test.outbox": len(old_published), "evt_test.inbox": len(old_inbox)}
    outbox_ids = {row.id for row in await event_db.rows(sa.select(event_db.outbox.c.id))}
    assert outbox_ids == {recent_published, old_pending, old_parked}
    inbox_ids = {row.event_id for row in await event_db.rows(sa.select(event_db.inbox.c.event_id))}
    assert inbox_ids == {recent_inbox}
    assert await worker.prune_once() == {"evt_test.outbox": 0, "evt_test.inbox": 0}


async def test_replicas_prune_side_by_side_skipping_locked_rows_without_waiting(event_db):
    """Two workers (two replicas) prune the same table at once while another transaction holds
    one of the expired rows: every other row is deleted exactly once, nobody waits for the lock,
    and the held row goes in a later pass."""
    async with event_db.engine.begin() as conn:
        ids = [await add_outbox_row(conn, event_db, age=8 * DAY, published=True) for _ in range(300)]
    replicas = [RetentionWorker(event_db.engine, rules(event_db), interval=60, batch_size=25) for _ in range(2)]

    t = event_db.outbox
    async with event_db.engine.connect() as holder, holder.begin():
        await holder.execute(sa.select(t.c.id).where(t.c.id == ids[0]).with_for_update())
        # Generous bound for a loaded machine; a worker waiting on the lock would never finish.
        results = await asyncio.wait_for(asyncio.gather(*(r.prune_once() for r in replicas)), 60)
        assert sum(r["evt_test.outbox"] for r in results) == len(ids) - 1
        remaining = [row.id for row in await event_db.rows(sa.select(t.c.id))]
        assert remaining == [ids[0]]
    assert (await replicas[0].prune_once())["evt_test.outbox"] == 1
    assert await event_db.scalar(sa.select(sa.func.count()).select_from(t)) == 0


def test_retention_defaults_and_an_inbox_retention_shorter_than_redelivery_is_refused():
    settings = ServiceSettings()
    assert settings.outbox_retention_seconds == DEFAULT_OUTBOX_RETENTION_SECONDS == 7 * 86_400
    assert settings.inbox_retention_seconds == DEFAULT_INBOX_RETENTION_SECONDS == 14 * 86_400
    assert settings.outbox_max_attempts == 5
    with pytest.raises(ValidationError, match="GALAXY_INBOX_RETENTION_SECONDS"):
        ServiceSettings(inbox_retention_seconds=3600)
    with pytest.raises(ValidationError, match="GALAXY_OUTBOX_MAX_ATTEMPTS"):
        ServiceSettings(outbox_max_attempts=0)
