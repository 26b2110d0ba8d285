"""Fixtures and helpers for the kit's event-plumbing tests: real Postgres, real broker (Tansu).

Every test gets a brand-new database with the outbox and inbox created by the
same Alembic helper a service's first migration calls, plus two small test
tables: `effects` (one row per applied event; no unique constraint, so a
double application would show) and `malformed` (one row per on_malformed call).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from alembic.migration import MigrationContext
from alembic.operations import Operations
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.db import create_engine, session_factory
from galaxy_kit.events import (
    EventEnvelope,
    IdempotentConsumer,
    MalformedEvent,
    OutboxRelay,
    create_event_tables,
    inbox_table,
    outbox_table,
    unpack_payload,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

SCHEMA = "evt_test"
PRODUCER = "kit-tests"

# Quick failure detection for tests; production keeps aiokafka's defaults.
TEST_CONSUMER_OPTIONS = {
    "session_timeout_ms": 2000,
    "heartbeat_interval_ms": 300,
    "rebalance_timeout_ms": 2000,
}
TEST_PRODUCER_OPTIONS = {"request_timeout_ms": 2000}


@dataclass
class EventDb:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metadata: sa.MetaData
    outbox: sa.Table
    inbox: sa.Table
    effects: sa.Table
    malformed: sa.Table

    async def scalar(self, statement: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).scalar()

    async def rows(self, statement: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement)).all())

    async def unpublished(self) -> int:
        t = self.outbox
        return await self.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.published_at.is_(None)))

    async def effect_counts(self) -> dict[uuid.UUID, int]:
        e = self.effects
        rows = await self.rows(sa.select(e.c.event_id, sa.func.count()).group_by(e.c.event_id))
        return {event_id: n for event_id, n in rows}

    def relay(self, bootstrap: str, cls: type[OutboxRelay] = OutboxRelay, **overrides: Any) -> OutboxRelay:
        """An outbox relay with quick test timings (production defaults are slower)."""
        options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "producer_options": TEST_PRODUCER_OPTIONS,
            "poll_interval": 0.05,
            "lock_retry_interval": 0.1,
            "retry_backoff": 0.05,
            "max_retry_backoff": 0.5,
        }
        options.update(overrides)
        return cls(self.engine, self.outbox, **options)

    def handler(self, consumer_name: str = "c") -> Callable[..., Awaitable[None]]:
        """A handler whose effect is one `effects` row per call, in the consumer's transaction."""
        effects = self.effects

        async def handle(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
            payload = unpack_payload(envelope, AccountLifecycleEvent)
            await session.execute(
                sa.insert(effects).values(
                    event_id=uuid.UUID(envelope.event_id),
                    user_id=payload.user_id,
                    seq=int(payload.reason_code),
                    consumer=consumer_name,
                )
            )

        return handle

    def on_malformed(self) -> Callable[..., Awaitable[None]]:
        """An on_malformed hook that keeps one `malformed` row per call."""
        malformed = self.malformed

        async def keep(session: AsyncSession, record: ConsumerRecord, error: MalformedEvent) -> None:
            await session.execute(
                sa.insert(malformed).values(
                    topic=record.topic, partition=record.partition, offset=record.offset, error=str(error)
                )
            )

        return keep

    def consumer(
        self,
        bootstrap: str,
        topic: str,
        *,
        group_id: str,
        cls: type[IdempotentConsumer] = IdempotentConsumer,
        **overrides: Any,
    ) -> IdempotentConsumer:
        """An idempotent consumer recording effects, with quick test timings."""
        options: dict[str, Any] = {
            "group_id": group_id,
            "bootstrap_servers": bootstrap,
            "sessions": self.sessions,
            "inbox": self.inbox,
            "handler": self.handler(),
            "on_malformed": self.on_malformed(),
            "retry_backoff": 0.05,
            "max_retry_backoff": 0.5,
            "poll_timeout": 0.1,
            "commit_timeout": 1.0,
            "commit_retry_interval": 1.0,
            "consumer_options": TEST_CONSUMER_OPTIONS,
        }
        options.update(overrides)
        return cls(topic, **options)


@pytest.fixture
async def event_db(fresh_database_dsn: str) -> AsyncIterator[EventDb]:
    engine = create_engine(fresh_database_dsn, application_name="kit-events-test", pool_size=5)
    metadata = sa.MetaData(schema=SCHEMA)
    outbox = outbox_table(metadata)
    inbox = inbox_table(metadata)
    effects = sa.Table(
        "effects",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("consumer", sa.Text, nullable=False),
    )
    malformed = sa.Table(
        "malformed",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )

    def migrate(connection: sa.Connection) -> None:
        # Exactly what a service's first Alembic revision does.
        op = Operations(MigrationContext.configure(connection))
        create_event_tables(op, SCHEMA)
        effects.create(connection)
        malformed.create(connection)

    async with engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
        await conn.run_sync(migrate)
    try:
        yield EventDb(engine, session_factory(engine), metadata, outbox, inbox, effects, malformed)
    finally:
        await engine.dispose()


@dataclass
class Runner:
    """Starts relays/consumers as tasks and stops whatever is left at teardown."""

    tasks: list[tuple[Any, asyncio.Task]] = field(default_factory=list)

    def start(self, component: Any) -> asyncio.Task:
        task = asyncio.create_task(component.run(), name=type(component).__name__)
        self.tasks.append((component, task))
        return task

    async def close(self) -> None:
        for component, task in reversed(self.tasks):
            if not task.done():
                try:
                    await asyncio.wait_for(component.stop(), 15)
                except TimeoutError:
                    task.cancel()
            with contextlib.suppress(BaseException):  # crashes are the point of some tests
                await task


@pytest.fixture
async def runner() -> AsyncIterator[Runner]:
    r = Runner()
    try:
        yield r
    finally:
        await r.close()
