"""The database engine: SQLAlchemy's async engine on asyncpg.

Services keep one engine per process. A domain operation is one transaction:
`async with transaction(sessions) as session:` commits on success and rolls
back on any exception, so repositories only add/flush and never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
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


#: asyncpg's errors for "there is no usable server connection" (SQLSTATE class 08, the
#: server shutting down or still recovering).
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    OSError,
    TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be used right now, not that the work is wrong.

    True for a refused or dropped connection, a server that is shutting down or
    still starting (crash recovery), a connect timeout, and a pool with no free
    connection in time. Such a failure is transient: the caller should answer
    UNAVAILABLE (503 at the edge) so the client retries. The transaction's
    outcome is unknown when the connection dropped during COMMIT, which is
    exactly what "unavailable, try again" tells an idempotent client.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.TimeoutError, *_UNREACHABLE)):
            return True
        current = current.__cause__ or current.__context__
    return False
