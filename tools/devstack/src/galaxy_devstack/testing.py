"""Pytest fixtures for real infrastructure: a PostgreSQL cluster and a Kafka-protocol broker.

Loaded by the root conftest.py. One cluster and one broker per test session
(starting them costs about a second); tests isolate themselves with a fresh
database (`fresh_database_dsn`) and unique topic names.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from galaxy_devstack.broker import TansuBroker
from galaxy_devstack.postgres import PostgresCluster


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away private cluster (fsync off) for the whole test session."""
    root = Path(tempfile.mkdtemp(prefix="galaxy-test-pg-"))
    cluster = PostgresCluster(root / "data", free_port(), fsync=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.dsn


def create_database(cluster: PostgresCluster, name: str) -> str:
    """Create an empty database in the cluster and return its DSN."""
    import subprocess

    subprocess.run(
        ["psql", "-h", cluster.host, "-p", str(cluster.port), "-U", "postgres", "-d", "postgres",
         "-c", f'CREATE DATABASE "{name}"'],
        check=True, capture_output=True,
    )
    return f"postgresql://postgres@{cluster.host}:{cluster.port}/{name}"


@pytest.fixture
def fresh_database_dsn(postgres_cluster: PostgresCluster) -> str:
    """A brand-new empty database for one test."""
    return create_database(postgres_cluster, f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[TansuBroker]:
    broker = TansuBroker(free_port(), log_file=Path(tempfile.gettempdir()) / f"galaxy-test-tansu-{os.getpid()}.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: TansuBroker) -> str:
    return kafka_broker.bootstrap_servers


@pytest.fixture
def unique_topic() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"
