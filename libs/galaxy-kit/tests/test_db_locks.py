"""galaxy_kit.db against a real PostgreSQL: advisory_xact_lock serialises one key, autocommit opens no transaction."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from galaxy_kit.db import (
    advisory_xact_lock,
    autocommit,
    create_engine,
    session_factory,
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


async def test_autocommit_reads_outside_a_transaction(engine):
    query = sa.text("SELECT now()")
    async with autocommit(engine) as connection:
        first = (await connection.execute(query)).scalar_one()
        await asyncio.sleep(0.05)
        second = (await connection.execute(query)).scalar_one()
    # Each statement is its own transaction, so now() moves; inside one transaction it would not.
    assert second > first
    async with engine.connect() as connection:
        first = (await connection.execute(query)).scalar_one()
        await asyncio.sleep(0.05)
        assert (await connection.execute(query)).scalar_one() == first
