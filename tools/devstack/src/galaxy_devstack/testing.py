"""Pytest fixtures for real infrastructure: a PostgreSQL cluster, a Kafka-protocol broker, the suite.

Loaded by the root conftest.py. One cluster and one broker per test session
(starting them costs about a second); tests isolate themselves with a fresh
database (`fresh_database_dsn`) and unique topic names. `suite` runs every
service and the edge as real processes (once per session, on free ports), or,
with GALAXY_SUITE_EDGE_URL set, is a suite that runs elsewhere (the container
stack of `make compose-up`, docs/deploy.md): see `external_suite`.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.request import Request, urlopen

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
    """A throw-away private cluster (fsync off) for the whole test session, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="galaxy-test-pg-"))
    cluster = PostgresCluster(root / "data", free_port(), fsync=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.dsn


def _psql(cluster: PostgresCluster, statement: str) -> None:
    import subprocess

    done = subprocess.run(
        ["psql", "-h", cluster.host, "-p", str(cluster.port), "-U", "postgres", "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", "-c", statement],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        # psql's own message (no space left, too many clients, ...) is what a failed CI run needs.
        raise RuntimeError(f"psql {statement!r} failed ({done.returncode}): {done.stderr.strip()}")


def create_database(cluster: PostgresCluster, name: str) -> str:
    """Create an empty database in the cluster and return its DSN."""
    _psql(cluster, f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{cluster.host}:{cluster.port}/{name}"


def drop_database(cluster: PostgresCluster, name: str) -> None:
    """Drop a database, ending whatever connections a test left open to it."""
    _psql(cluster, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database_dsn(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A brand-new empty database for one test, dropped after it.

    Every database is a copy of template1 (about 8 MB): kept, a full run's 1,000-odd of
    them filled gigabytes of the temporary directory, and a CI machine's disk with them.
    """
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = create_database(postgres_cluster, name)
    yield dsn
    drop_database(postgres_cluster, name)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[TansuBroker]:
    log_file = Path(tempfile.gettempdir()) / f"galaxy-test-tansu-{os.getpid()}.log"
    broker = TansuBroker(free_port(), log_file=log_file)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        log_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: TansuBroker) -> str:
    return kafka_broker.bootstrap_servers


@pytest.fixture
def unique_topic() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


# -- the whole suite -------------------------------------------------------------------------------


@dataclass
class Suite:
    """The running suite as a test sees it: the edge's URL, admin credentials, received mail.

    It also injects faults into one part at a time, leaving the others running
    (docs/devstack.md, "Faults"): `kill`/`pause`/`resume`/`restart` a service
    or the edge, `kill_broker`/`start_broker`/`restart_broker`,
    `kill_postgres`/`start_postgres`/`restart_postgres`. Everything comes back
    on the same ports.
    """

    #: None when the suite runs elsewhere (`external_suite`): no process of it can be touched.
    stack: Stack | None
    edge_url: str
    admin_auth: tuple[str, str]
    #: Where the local SMTP sink writes; None when mail is read through `mail_api`.
    mail_dir: Path | None
    database_url: str
    startup_seconds: float
    #: The broker and the cluster the suite runs on, whoever started them.
    broker: TansuBroker | None = None
    postgres: PostgresCluster | None = None
    #: The HTTP API of a Mailpit (or the stand-in of docker-compose.local.yml) the suite sends to.
    mail_api: MailApi | None = None

    @property
    def push_target(self) -> str:
        return self.stack.push_target

    def messages(self) -> list[EmailMessage]:
        """Every message the suite's SMTP server received, oldest first."""
        if self.mail_api is not None:
            return self.mail_api.messages()
        return read_messages(self.mail_dir)

    # -- faults ------------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL a service (or the edge) as a crash would; it stays down until `restart`."""
        self.stack.kill_process(name)

    def pause(self, name: str) -> None:
        """SIGSTOP a service: its port stays open, nothing answers."""
        self.stack.pause_process(name)

    def resume(self, name: str) -> None:
        self.stack.resume_process(name)

    @contextmanager
    def paused(self, name: str) -> Iterator[None]:
        """The service is frozen inside the block and resumed after it, whatever happens."""
        self.pause(name)
        try:
            yield
        finally:
            self.resume(name)

    def restart(self, name: str, *, kill: bool = True) -> None:
        """SIGKILL (or with `kill=False` SIGTERM) a service if it runs, start it, wait until SERVING."""
        self.stack.restart_process(name, kill=kill)

    def _the_broker(self) -> TansuBroker:
        if self.broker is None:
            raise StackError("this suite runs on an external broker")
        return self.broker

    def kill_broker(self) -> None:
        """SIGKILL the broker; Tansu's memory storage loses every topic, record and offset."""
        if self.stack.broker is not None:
            self.stack.kill_broker()
        else:
            self._the_broker().kill()

    def start_broker(self) -> None:
        """Start an empty broker on the same port."""
        if self.stack.broker is not None:
            self.stack.start_broker()
        else:
            self._the_broker().start()

    def restart_broker(self) -> None:
        self.kill_broker()
        self.start_broker()

    def _the_cluster(self) -> PostgresCluster:
        if self.postgres is None:
            raise StackError("this suite runs on an external PostgreSQL")
        return self.postgres

    def _stack_owns_postgres(self) -> bool:
        return self.stack.postgres is not None and self.stack.external_database_url is None

    def kill_postgres(self) -> None:
        """Crash-stop PostgreSQL (`pg_ctl stop -m immediate`): every connection is cut at once."""
        if self._stack_owns_postgres():
            self.stack.kill_postgres()
        else:
            self._the_cluster().stop(mode="immediate")

    def start_postgres(self) -> None:
        """Start PostgreSQL again on the same port and data (crash recovery first)."""
        if self._stack_owns_postgres():
            self.stack.start_postgres()
        else:
            self._the_cluster().start()

    def restart_postgres(self) -> None:
        self.kill_postgres()
        self.start_postgres()


@dataclass
class MailApi:
    """Received mail through Mailpit's HTTP API (`GET /api/v1/messages`, `.../message/{ID}/raw`).

    Each message comes back as the local sink stores it: with one `Delivered-To` per recipient
    (the stand-in catcher adds them; for a real Mailpit they are made from the listed `To`).
    Messages already read are kept, so polling fetches only the new ones.
    """

    url: str
    _seen: dict[str, EmailMessage] = field(default_factory=dict)

    def _get(self, path: str) -> bytes:
        with urlopen(Request(self.url.rstrip("/") + path), timeout=30) as response:  # noqa: S310 - test URL
            return response.read()

    def messages(self) -> list[EmailMessage]:
        listed = json.loads(self._get("/api/v1/messages?limit=1000000"))["messages"]
        for summary in reversed(listed):  # the API lists newest first
            if summary["ID"] not in self._seen:
                message = message_from_bytes(self._get(f"/api/v1/message/{summary['ID']}/raw"), policy=default)
                if not message.get_all("Delivered-To"):
                    for recipient in summary.get("To") or []:
                        message["Delivered-To"] = recipient["Address"]
                self._seen[summary["ID"]] = message
        return list(self._seen.values())


#: The suite that `suite` yields instead of starting one, when set (`make compose-test`).
EXTERNAL_SUITE_VARIABLES = (
    "GALAXY_SUITE_EDGE_URL",  # e.g. http://127.0.0.1:8080
    "GALAXY_SUITE_ADMIN_USERNAME",
    "GALAXY_SUITE_ADMIN_PASSWORD",
    "GALAXY_SUITE_MAIL_API",  # Mailpit's HTTP address, e.g. http://127.0.0.1:8025
    "GALAXY_SUITE_DATABASE_URL",  # the suite's database as reachable from the tests
)


def external_suite(environ: Mapping[str, str]) -> Suite | None:
    """The suite described by GALAXY_SUITE_* variables, or None when GALAXY_SUITE_EDGE_URL is unset.

    Tests marked `local_processes` (they stop, kill or restart parts, or talk to a service or the
    broker directly) cannot run against it: `make compose-test` deselects them.
    """
    if not environ.get("GALAXY_SUITE_EDGE_URL"):
        return None
    missing = [name for name in EXTERNAL_SUITE_VARIABLES if not environ.get(name)]
    if missing:
        raise StackError(f"GALAXY_SUITE_EDGE_URL is set, so these must be too: {', '.join(missing)}")
    return Suite(
        stack=None,
        edge_url=environ["GALAXY_SUITE_EDGE_URL"].rstrip("/"),
        admin_auth=(environ["GALAXY_SUITE_ADMIN_USERNAME"], environ["GALAXY_SUITE_ADMIN_PASSWORD"]),
        mail_dir=None,
        database_url=environ["GALAXY_SUITE_DATABASE_URL"],
        startup_seconds=0.0,
        mail_api=MailApi(environ["GALAXY_SUITE_MAIL_API"]),
    )


@pytest.fixture(scope="session")
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    """Every service and the edge as real processes on free ports, for the whole session.

    With GALAXY_SUITE_EDGE_URL set, the suite described by the GALAXY_SUITE_* variables instead
    (`external_suite`); nothing is started.

    Reuses the session's PostgreSQL (in a fresh database of its own) and broker;
    starts the local SMTP sink. State (logs, mail, admin password) lives in a
    temporary directory that is kept when something fails to start, so its logs
    can be read. Restarting its broker or PostgreSQL restarts the session's,
    which other tests use too: tests that do that take `private_suite` instead.
    """
    try:
        elsewhere = external_suite(os.environ)
    except StackError as exc:
        pytest.fail(str(exc), pytrace=False)
    if elsewhere is not None:
        yield elsewhere
        return
    postgres_cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    kafka_broker: TansuBroker = request.getfixturevalue("kafka_broker")
    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-suite-"))
    database_url = create_database(postgres_cluster, f"suite_{uuid.uuid4().hex[:12]}")
    with launch_suite(
        state_dir, database_url=database_url, broker=kafka_broker, postgres=postgres_cluster
    ) as running:
        yield running
    shutil.rmtree(state_dir, ignore_errors=True)


@contextmanager
def launch_suite(
    state_dir: Path,
    *,
    database_url: str | None = None,
    broker: TansuBroker | None = None,
    postgres: PostgresCluster | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Suite]:
    """Start a Stack on free ports in `state_dir`, yield it as a Suite, stop it afterwards.

    Without `database_url` / `broker` the stack embeds its own PostgreSQL
    (fsync off) and Tansu, so faults injected into them touch nothing else.
    `environ` entries are added to the children's environment (settings of
    docs/configuration.md).
    """
    env = {**os.environ, **(environ or {})}
    begun = time.monotonic()
    for attempt in range(1, SUITE_PORT_ATTEMPTS + 1):
        stack = Stack(
            state_dir,
            free_ports=True,
            database_url=database_url,
            kafka_bootstrap_servers=broker.bootstrap_servers if broker is not None else None,
            admin_username="admin",
            admin_password=f"suite-{uuid.uuid4().hex}",
            environ=env,
            out=_SuiteProgress(),
            startup_timeout=SUITE_STARTUP_TIMEOUT_SECONDS,
            pg_fsync=False,
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
            database_url=stack.database_url,
            startup_seconds=time.monotonic() - begun,
            broker=broker if broker is not None else stack.broker,
            postgres=postgres if database_url is not None else stack.postgres,
        )
    finally:
        stack.stop(quiet=True)


#: Eight Python processes importing at once on a two-core machine; generous on purpose.
SUITE_STARTUP_TIMEOUT_SECONDS = 180.0
SUITE_PORT_ATTEMPTS = 3


class _SuiteProgress(io.StringIO):
    """Collects the stack's progress lines; shown by pytest with the failing test's output."""

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        return super().write(text)
