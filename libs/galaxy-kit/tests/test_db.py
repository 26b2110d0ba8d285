"""The database plumbing against a real PostgreSQL: compiled reads, and surviving a server restart."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from galaxy_devstack.postgres import PostgresCluster
from galaxy_devstack.testing import free_port
from galaxy_kit.db import Query, Reads, create_engine, session_factory, transaction

numbers = sa.table("numbers", sa.column("n", sa.Integer), sa.column("label", sa.Text), schema="public")


@pytest.fixture
def restartable_cluster():
    """A cluster of this test's own: restarting the shared one would disturb other tests."""
    root = Path(tempfile.mkdtemp(prefix="galaxy-test-pg-restart-", dir="/var/tmp"))
    root.chmod(0o755)
    cluster = PostgresCluster(root / "data", free_port(), fsync=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


async def test_a_compiled_query_binds_by_name_and_keeps_its_own_literals(fresh_database_dsn):
    engine = create_engine(fresh_database_dsn, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE numbers (n integer, label text)"))
        await conn.execute(sa.text("INSERT INTO numbers VALUES (1, 'one'), (2, 'two'), (3, 'three')"))
    await engine.dispose()
    query = Query.compile(
        sa.select(numbers.c.label)
        .where(numbers.c.n >= sa.bindparam("least"), numbers.c.label != "two")
        .order_by(numbers.c.n)
        .limit(5)
    )
    reads = Reads(fresh_database_dsn, max_size=2)
    try:
        assert [r["label"] for r in await reads.fetch(query, least=1)] == ["one", "three"]
        assert await reads.fetchval(query, least=3) == "three"
        assert await reads.fetchrow(query, least=4) is None
    finally:
        await reads.close()


async def test_reads_and_units_of_work_survive_a_postgres_restart(restartable_cluster):
    dsn = restartable_cluster.dsn
    query = Query.compile(sa.select(sa.literal_column("1").label("one")).where(sa.bindparam("x") == 1))
    reads = Reads(dsn, max_size=2)
    engine = create_engine(dsn, pool_size=1, max_overflow=0)
    sessions = session_factory(engine)
    try:
        assert await reads.fetchval(query, x=1) == 1
        async with transaction(sessions) as session:
            await session.execute(sa.text("CREATE TABLE marks (id uuid PRIMARY KEY)"))

        # Both pools now hold a connection the restart will kill.
        await asyncio.to_thread(restartable_cluster.stop, "fast")
        await asyncio.to_thread(restartable_cluster.start)

        # Neither pings before use (the connections were idle for less than IDLE_PING_SECONDS):
        # the dead connection is noticed and replaced, and the first read and unit of work succeed.
        assert await reads.fetchval(query, x=1) == 1
        mark = uuid.uuid4()
        async with transaction(sessions) as session:
            await session.execute(sa.text("INSERT INTO marks VALUES (:id)"), {"id": mark})
        async with transaction(sessions) as session:
            assert (await session.execute(sa.text("SELECT id FROM marks"))).scalar_one() == mark
    finally:
        await reads.close()
        await engine.dispose()


async def test_a_wrong_statement_fails_and_leaves_the_pool_usable(fresh_database_dsn):
    reads = Reads(fresh_database_dsn, max_size=1)
    query = Query.compile(sa.select(sa.column("nothing")).select_from(sa.table("no_such_table")))
    try:
        with pytest.raises(Exception, match="no_such_table"):
            await reads.fetch(query)
        # The pool still works afterwards.
        assert await reads.fetchval(Query.compile(sa.select(sa.literal_column("2")))) == 2
    finally:
        await reads.close()


async def test_a_write_is_never_repeated_when_its_connection_dies_but_a_read_is_once(fresh_database_dsn):
    """`Reads.write` cannot know whether a statement whose connection died committed: it raises
    instead of running it again (a read is repeated once on a fresh connection)."""
    engine = create_engine(fresh_database_dsn, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SEQUENCE tries"))
    # nextval survives the aborted statement: it counts how often the statement ran.
    dies = Query.compile(sa.text("SELECT nextval('tries'), pg_terminate_backend(pg_backend_pid())"))
    count = sa.text("SELECT last_value FROM tries")
    reads = Reads(fresh_database_dsn, max_size=1)
    try:
        with pytest.raises(Exception):  # noqa: B017 - asyncpg's exact class for a killed backend varies
            await reads.write(dies)
        async with engine.connect() as conn:
            assert (await conn.execute(count)).scalar_one() == 1
        with pytest.raises(Exception):  # noqa: B017
            await reads.fetch(dies)
        async with engine.connect() as conn:
            assert (await conn.execute(count)).scalar_one() == 3
    finally:
        await reads.close()
        await engine.dispose()
