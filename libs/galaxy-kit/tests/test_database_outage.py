"""A service's RPCs while its PostgreSQL crashes and comes back: UNAVAILABLE, then served again.

A real cluster of its own (stopping the session's would disturb other tests),
the kit's engine and pool, and a real grpc.aio server built by
`galaxy_kit.grpc_server.build_server` whose one method runs a transaction.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from galaxy_devstack.postgres import PostgresCluster
from galaxy_kit import db
from galaxy_kit.grpc_server import DATABASE_UNAVAILABLE_MESSAGE, build_server

METHOD = "/galaxy.test.v1.Probe/Count"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    root = Path(tempfile.mkdtemp(prefix="galaxy-kit-outage-"))
    cluster = PostgresCluster(root / "data", _free_port(), fsync=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def channel(own_cluster: PostgresCluster) -> AsyncIterator[grpc.aio.Channel]:
    engine = db.create_engine(own_cluster.dsn, pool_size=2)
    sessions = db.session_factory(engine)

    async def count(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        async with db.transaction(sessions) as session:
            return str((await session.execute(sa.text("SELECT count(*) FROM pg_class"))).scalar_one()).encode()

    server = build_server()
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(
            "galaxy.test.v1.Probe",
            {"Count": grpc.unary_unary_rpc_method_handler(count)},
        )
    ])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


async def test_a_database_crash_answers_unavailable_and_the_pool_recovers(own_cluster, channel):
    call = channel.unary_unary(METHOD)
    assert int(await call(b"", timeout=10)) > 0  # the pool now holds a live connection

    await asyncio.to_thread(own_cluster.stop, "immediate")
    try:
        for _ in range(2):  # the pooled connection died, then no connection can be made
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await call(b"", timeout=10)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value
            assert raised.value.details() == DATABASE_UNAVAILABLE_MESSAGE
    finally:
        await asyncio.to_thread(own_cluster.start)

    # No manual step: the next call gets a fresh connection, never a dead pooled one.
    assert int(await call(b"", timeout=10)) > 0
    assert int(await call(b"", timeout=10)) > 0


def test_is_unavailable_tells_outages_from_bugs():
    refused = ConnectionRefusedError(111, "Connect call failed")
    assert db.is_unavailable(refused)
    wrapped = RuntimeError("while claiming")
    wrapped.__cause__ = refused
    assert db.is_unavailable(wrapped)
    assert not db.is_unavailable(ValueError("a bug"))
    assert not db.is_unavailable(
        sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key value violates unique constraint"))
    )


async def test_start_up_waits_for_a_database_that_comes_up_later():
    """Containers start in any order: a service's start-up outlasts a PostgreSQL that starts late."""
    root = Path(tempfile.mkdtemp(prefix="galaxy-kit-late-"))
    # The `postgres` database exists as soon as the server accepts connections; a database
    # the start creates afterwards would be missing for a moment, which is not waited for.
    cluster = PostgresCluster(root / "data", _free_port(), fsync=False, database="postgres")
    retries: list[int] = []
    waiting = asyncio.create_task(
        db.wait_for_database(cluster.dsn, timeout=120, on_retry=lambda attempt, error, delay: retries.append(attempt))
    )
    await asyncio.sleep(1.5)
    assert not waiting.done(), "returned before the database existed"
    await asyncio.to_thread(cluster.start)
    try:
        attempts = await asyncio.wait_for(waiting, timeout=60)
        assert attempts > 1 and retries == list(range(1, attempts))
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


async def test_start_up_gives_up_after_its_timeout_and_at_once_on_a_wrong_database(own_cluster):
    with pytest.raises(OSError):
        await db.wait_for_database(f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres", timeout=1.0)
    missing = own_cluster.dsn.rsplit("/", 1)[0] + "/no_such_database"
    began = asyncio.get_running_loop().time()
    with pytest.raises(Exception, match="no_such_database"):
        await db.wait_for_database(missing, timeout=60)
    assert asyncio.get_running_loop().time() - began < 30, "a missing database is not worth waiting for"
