"""The database engine: SQLAlchemy's async engine on asyncpg.

Services keep one engine per process. A domain operation is one transaction:
`async with transaction(sessions) as session:` commits on success and rolls
back on any exception, so repositories only add/flush and never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10


def async_dsn(dsn: str) -> str:
    """Accept a plain `postgresql://` DSN (the form operators write) and select asyncpg."""
    url = make_url(dsn)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def plain_dsn(dsn: str) -> str:
    """The DSN without a SQLAlchemy driver suffix, as asyncpg.connect() wants it."""
    url = make_url(dsn).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def create_engine(
    dsn: str,
    *,
    application_name: str = "galaxy",
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
) -> AsyncEngine:
    return create_async_engine(
        async_dsn(dsn),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    async with sessions() as session, session.begin():
        yield session


def _lock_half(text: str) -> int:
    """A stable signed 32-bit number for a string (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big", signed=True)


async def advisory_xact_lock(session: AsyncSession, namespace: str, key: object) -> None:
    """Wait for the transaction-scoped advisory lock of (namespace, key); released at commit or rollback.

    Serialises work on one thing that has no row to lock yet (a name being claimed, a user's
    counters). The namespace keeps services' and purposes' keys apart; two different keys can
    collide on the 64-bit pair, which only costs a needless wait, never a wrong result.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
        {"namespace": _lock_half(namespace), "key": _lock_half(str(key))},
    )


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection without BEGIN/COMMIT around each statement: for reads that are one statement.

    A single statement is atomic on its own; an explicit transaction only adds two round trips.
    """
    async with engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")
