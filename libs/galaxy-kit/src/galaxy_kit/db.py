"""The database: SQLAlchemy's async engine on asyncpg for units of work, and `Reads` for hot reads.

Services keep one engine per process. A domain operation that writes is one
transaction: `async with transaction(sessions) as session:` commits on success
and rolls back on any exception, so repositories only add/flush and never commit.

A read that is one statement needs no transaction and no ORM session: `Reads`
runs it on a small asyncpg pool in autocommit, as a statement compiled once
from SQLAlchemy Core and prepared once per connection (asyncpg's statement
cache). Every read outside a unit of work goes this way (an account's
aggregate, the identity gate, the gateway's session lookup, lobby's lists).
Its rows (`ReadRow`) read like SQLAlchemy's: by column name as an attribute,
so domain code takes a row from either without caring which. A write that is
one statement (a CTE can check and insert in several tables atomically) runs
the same way with `Reads.write`, which is never repeated on a dropped
connection.

Dropped connections (a PostgreSQL restart, a failover, an idle connection
killed by a proxy) are handled when they are met, not by a ping before every
use: `Reads` retries a statement once on a fresh connection when its
connection turned out to be dead, and the engine pings only a connection that
sat idle in its pool for longer than `IDLE_PING_SECONDS` (one that is in steady
use cannot have been dropped unnoticed for long; a disconnect met mid-statement
invalidates the whole pool, so only that one unit of work fails).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as AsyncpgDialect  # noqa: N812
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import ClauseElement

DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10
#: A pooled connection idle longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 30.0
#: Connections `Reads` keeps open at rest; it grows to `max_size` under load.
READS_MIN_SIZE = 1

#: What says "this connection is gone" (as opposed to "this statement is wrong").
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08, incl. "connection was closed"
    asyncpg.exceptions.AdminShutdownError,  # 57P01: the server is shutting down
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: the server is starting
    OSError,
)


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


#: Backoff between connection attempts while waiting for the database at start-up.
WAIT_FIRST_DELAY_SECONDS = 0.2
WAIT_MAX_DELAY_SECONDS = 5.0


async def wait_for_database(dsn: str, *, timeout: float, on_retry=None) -> int:
    """Return once PostgreSQL accepts a connection with `dsn`; the attempts it took.

    Retries connection errors (refused, the server still starting, DNS of a peer
    container not yet there) with exponential backoff until `timeout` seconds have
    passed, then raises the last error. Any other error (a wrong password, a
    missing database) is raised at once: waiting would not fix it.
    `on_retry(attempt, error, delay)` is called before each pause (for a log line).
    """
    deadline = time.monotonic() + timeout
    delay = WAIT_FIRST_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            conn = await asyncpg.connect(plain_dsn(dsn), timeout=5)
        except CONNECTION_ERRORS + (asyncio.TimeoutError,) as error:
            if time.monotonic() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry(attempt, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, WAIT_MAX_DELAY_SECONDS)
            continue
        await conn.close()
        return attempt


def create_engine(
    dsn: str,
    *,
    application_name: str = "galaxy",
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    idle_ping_seconds: float = IDLE_PING_SECONDS,
) -> AsyncEngine:
    engine = create_async_engine(
        async_dsn(dsn),
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    _ping_after_idle(engine, idle_ping_seconds)
    return engine


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a connection on checkout without a round trip; ping it only after a long idle.

    asyncpg notices a connection the server closed (a restart, a terminated
    backend) as soon as the event loop reads the close, so `is_closed()` costs
    nothing and catches most drops. A connection that sat in the pool longer than
    `idle_seconds` may have been dropped silently (a proxy, a failover): that one
    is pinged.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "_connection", None)
        if driver is not None and driver.is_closed():
            raise exc.DisconnectionError("connection was closed by the server")
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        if not engine.dialect._do_ping_w_event(dbapi_connection):  # noqa: SLF001 - raises on a disconnect
            raise exc.DisconnectionError("connection found dead after sitting idle")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    async with sessions() as session, session.begin():
        yield session


#: Beyond a dropped connection: a crashed server's backends, a connection asyncpg already
#: closed, a connect that timed out.
_UNREACHABLE = (
    *CONNECTION_ERRORS,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,
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
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (exc.TimeoutError, *_UNREACHABLE)):
            return True
        current = current.__cause__ or current.__context__
    return False


_DIALECT = AsyncpgDialect()


@dataclass(frozen=True)
class Query:
    """A SQLAlchemy Core statement compiled once for asyncpg: SQL text with $n, its binds in order,
    and the values of the binds the statement itself fixes (literals, LIMIT)."""

    sql: str
    params: tuple[str, ...]
    fixed: tuple[tuple[str, Any], ...]

    @classmethod
    def compile(cls, statement: ClauseElement) -> Query:
        compiled = statement.compile(dialect=_DIALECT)
        fixed = tuple((name, value) for name, value in compiled.params.items() if value is not None)
        return cls(str(compiled), tuple(compiled.positiontup or ()), fixed)

    def args(self, values: dict[str, Any]) -> list[Any]:
        if self.fixed:
            values = {**dict(self.fixed), **values}
        return [values[name] for name in self.params]


class ReadRow(asyncpg.Record):
    """An asyncpg record whose columns also read as attributes (`row.game_id`), as a SQLAlchemy Row's do."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Reads:
    """Single-statement reads on a small asyncpg pool: autocommit, prepared statements, one retry.

    Open it in the service's event loop (`await reads.open()`); it connects lazily
    if a read comes first.
    """

    def __init__(self, dsn: str, *, application_name: str = "galaxy", max_size: int = DEFAULT_POOL_SIZE,
                 min_size: int = READS_MIN_SIZE) -> None:
        self._dsn = plain_dsn(dsn)
        self._application_name = application_name
        self._min_size = min(min_size, max_size)
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None

    async def open(self) -> None:
        if self._pool is not None:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    server_settings={"application_name": self._application_name},
                    # Every statement runs alone in autocommit: nothing to reset between uses.
                    reset=_nothing_to_reset,
                )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def fetchrow(self, query: Query, **values: Any) -> ReadRow | None:
        return await self._run("fetchrow", query, values, record_class=ReadRow)

    async def fetch(self, query: Query, **values: Any) -> list[ReadRow]:
        return await self._run("fetch", query, values, record_class=ReadRow)

    async def fetchval(self, query: Query, **values: Any) -> Any:
        return await self._run("fetchval", query, values)

    async def write(self, query: Query, **values: Any) -> list[ReadRow]:
        """One statement that writes (its RETURNING rows), atomic on its own, in autocommit.

        Never repeated: when the connection dies mid-statement the outcome is unknown
        (it may have committed), so the error goes to the caller (`is_unavailable`).
        """
        return await self._run("fetch", query, values, retry=False, record_class=ReadRow)

    async def _run(
        self, method: str, query: Query, values: dict[str, Any], *, retry: bool = True, **options: Any
    ) -> Any:
        if self._pool is None:
            await self.open()
        assert self._pool is not None
        args: Sequence[Any] = query.args(values)
        try:
            return await getattr(self._pool, method)(query.sql, *args, **options)
        except CONNECTION_ERRORS:
            if not retry:
                raise
            # The pool drops the dead connection; a read is safe to repeat once on a fresh one.
            return await getattr(self._pool, method)(query.sql, *args, **options)


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    return None


def sql_in(column: str, values: Iterable[object]) -> str:
    """`column IN ('a', 'b')` with literal values, for a CHECK constraint or a partial index predicate.

    Literals rather than bind parameters: a predicate spelled the same way in a query
    lets a prepared statement's generic plan still use the partial index.
    """
    quoted = ("'" + str(value).replace("'", "''") + "'" for value in values)
    return f"{column} IN ({', '.join(quoted)})"


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
