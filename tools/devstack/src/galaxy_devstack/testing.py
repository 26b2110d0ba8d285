"""Pytest fixtures for real infrastructure: a PostgreSQL cluster, a Kafka-protocol broker, the suite.

Loaded by the root conftest.py. One cluster and one broker per test session
(starting them costs about a second); tests isolate themselves with a fresh
database (`fresh_database_dsn`) and unique topic names. `suite` runs every
service and the edge as real processes (once per session, on free ports).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from galaxy_devstack.broker import TansuBroker
from galaxy_devstack.postgres import PostgresCluster
from galaxy_devstack.smtp_sink import read_messages
from galaxy_devstack.stack import PortsInUse, Stack, StackError


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


# -- the whole suite -------------------------------------------------------------------------------


@dataclass
class Suite:
    """The running suite as a test sees it: the edge's URL, admin credentials, received mail."""

    stack: Stack
    edge_url: str
    admin_auth: tuple[str, str]
    mail_dir: Path
    database_url: str
    startup_seconds: float

    @property
    def push_target(self) -> str:
        return self.stack.push_target

    def messages(self) -> list[EmailMessage]:
        """Every message the local SMTP sink received, oldest first."""
        return read_messages(self.mail_dir)


@pytest.fixture(scope="session")
def suite(postgres_cluster: PostgresCluster, kafka_broker: TansuBroker) -> Iterator[Suite]:
    """Every service and the edge as real processes on free ports, for the whole session.

    Reuses the session's PostgreSQL (in a fresh database of its own) and broker;
    starts the local SMTP sink. State (logs, mail, admin password) lives in a
    temporary directory that is kept when something fails to start, so its logs
    can be read.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-suite-"))
    database_url = create_database(postgres_cluster, f"suite_{uuid.uuid4().hex[:12]}")
    begun = time.monotonic()
    for attempt in range(1, SUITE_PORT_ATTEMPTS + 1):
        stack = Stack(
            state_dir,
            free_ports=True,
            database_url=database_url,
            kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
            admin_username="admin",
            admin_password=f"suite-{uuid.uuid4().hex}",
            out=_SuiteProgress(),
            startup_timeout=SUITE_STARTUP_TIMEOUT_SECONDS,
        )
        try:
            stack.start()
            break
        except PortsInUse:
            # Another process took a port between choosing and checking it; choose again.
            if attempt == SUITE_PORT_ATTEMPTS:
                raise
        except StackError as exc:
            pytest.fail(f"the suite did not start (state in {state_dir}):\n{exc}", pytrace=False)
    try:
        yield Suite(
            stack=stack,
            edge_url=stack.edge_url,
            admin_auth=stack.admin_auth,
            mail_dir=stack.mail_dir,
            database_url=database_url,
            startup_seconds=time.monotonic() - begun,
        )
    finally:
        stack.stop(quiet=True)
        shutil.rmtree(state_dir, ignore_errors=True)


#: Eight Python processes importing at once on a two-core machine; generous on purpose.
SUITE_STARTUP_TIMEOUT_SECONDS = 180.0
SUITE_PORT_ATTEMPTS = 3


class _SuiteProgress(io.StringIO):
    """Collects the stack's progress lines; shown by pytest with the failing test's output."""

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        return super().write(text)
