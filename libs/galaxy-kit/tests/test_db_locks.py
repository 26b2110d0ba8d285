"""galaxy_kit.db against a real PostgreSQL: advisory_xact_lock serialises one key; Reads rows and sql_in."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from galaxy_kit.db import (
    Query,
    Reads,
    advisory_xact_lock,
    create_engine,
    session_factory,
    sql_in,
    transaction,
)


@pytest.fixture
async def engine(fresh_database_dsn):
    engine = create_engine(fresh_database_dsn, pool_size=4)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_one_key_is_held_by_one_transaction_until_it_ends(engine):
    sessions = session_factory(engine)
    order: list[str] = []
    first_holds = asyncio.Event()

    async def first() -> None:
        async with transaction(sessions) as session:
            await advisory_xact_lock(session, "test.names", "starlords")
            first_holds.set()
            order.append("first locked")
            await asyncio.sleep(0.5)  # the second must wait however long this takes
            order.append("first done")

    async def second() -> None:
        await first_holds.wait()
        async with transaction(sessions) as session:
            await advisory_xact_lock(session, "test.names", "starlords")
            order.append("second locked")

    async def other_key() -> None:
        await first_holds.wait()
        async with transaction(sessions) as session:
            await advisory_xact_lock(session, "test.names", "bluesuns")
            order.append("other key locked")

    await asyncio.gather(first(), second(), other_key())
    assert order.index("second locked") > order.index("first done")
    assert order.index("other key locked") < order.index("first done")


async def test_the_same_key_in_another_namespace_is_another_lock(engine):
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        await advisory_xact_lock(session, "test.a", "key")
        async with transaction(sessions) as other:
            await asyncio.wait_for(advisory_xact_lock(other, "test.b", "key"), timeout=10)


async def test_reads_run_each_statement_alone_and_rows_read_by_attribute(fresh_database_dsn):
    reads = Reads(fresh_database_dsn, max_size=1)
    query = Query.compile(sa.select(sa.func.now().label("at"), sa.literal("ok").label("word")))
    try:
        first = await reads.fetchrow(query)
        await asyncio.sleep(0.05)
        second = (await reads.fetch(query))[0]
    finally:
        await reads.close()
    # Each statement is its own transaction (now() moves), on the same single connection.
    assert second.at > first.at
    assert (first.word, first["word"]) == ("ok", "ok")
    with pytest.raises(AttributeError):
        first.missing  # noqa: B018 - the attribute read is the test


async def test_sql_in_admits_exactly_the_listed_values(engine):
    async with engine.begin() as connection:
        allowed = sql_in("name", ["red", "it's"])
        await connection.execute(sa.text(f"CREATE TABLE colours (name text CHECK ({allowed}))"))
        await connection.execute(sa.text("INSERT INTO colours VALUES ('red'), ('it''s')"))
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(sa.text("INSERT INTO colours VALUES ('blue')"))
