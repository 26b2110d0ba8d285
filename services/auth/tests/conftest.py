"""Service-tier fixtures of auth: real Postgres, real gRPC, the real mail service with a real SMTP server.

The neighbours auth calls run in-process once per test session, on one
database of their own: the mail service (galaxy_mail.app.SERVICE) delivering
to a real SMTP server (devstack's aiosmtpd sink, one .eml file per message),
and the account service (galaxy_account.app.SERVICE), which makes the user
ids and publishes account lifecycle events. Tests read login codes from the e-mails received.
Each test uses its own addresses, so tests sharing the database do not meet.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from galaxy.auth.v1 import auth_pb2_grpc
from galaxy_account.app import SERVICE as ACCOUNT
from galaxy_account.settings import AccountSettings
from galaxy_devstack.smtp_sink import SmtpSink
from galaxy_devstack.testing import create_database, free_port
from galaxy_kit.testing import running_service
from galaxy_mail.app import SERVICE as MAIL
from galaxy_mail.settings import MailSettings

from galaxy_auth.app import SERVICE as AUTH

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from auth_testkit import Auth, Neighbours, auth_settings  # noqa: E402


@pytest.fixture(scope="session")
def smtp_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="galaxy-auth-test-mail-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def smtp_server(smtp_dir: Path) -> Iterator[SmtpSink]:
    with SmtpSink(smtp_dir, free_port()) as sink:
        yield sink


@pytest.fixture(scope="session")
async def neighbours(postgres_cluster, kafka_bootstrap, smtp_server, smtp_dir) -> AsyncIterator[Neighbours]:
    dsn = create_database(postgres_cluster, f"auth_{uuid.uuid4().hex[:12]}")
    mail_settings = MailSettings(
        database_url=dsn,
        kafka_bootstrap_servers=kafka_bootstrap,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_timeout_seconds=10.0,
        mail_poll_interval_seconds=0.2,
    )
    account_settings = AccountSettings(database_url=dsn, kafka_bootstrap_servers=kafka_bootstrap)
    async with running_service(MAIL, mail_settings) as mail, running_service(ACCOUNT, account_settings) as account:
        yield Neighbours(dsn, mail, account, smtp_dir)


@pytest.fixture
def start_auth(neighbours: Neighbours):
    """`async with start_auth(**settings) as auth:` an auth service wired to the neighbours."""

    @asynccontextmanager
    async def start(**overrides) -> AsyncIterator[Auth]:
        values = dict(
            mail_grpc_target=neighbours.mail.address,
            account_grpc_target=neighbours.account.address,
            kafka_bootstrap_servers=neighbours.account.settings.kafka_bootstrap_servers,
        )
        values.update(overrides)
        settings = auth_settings(values.pop("database_url", neighbours.database_url), **values)
        async with running_service(AUTH, settings) as service:
            yield Auth(service, auth_pb2_grpc.AuthServiceStub(service.channel), neighbours)

    return start


@pytest.fixture
async def auth(start_auth) -> AsyncIterator[Auth]:
    """Auth with default rules, wired to the real account and mail."""
    async with start_auth() as running:
        yield running
