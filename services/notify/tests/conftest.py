"""Service-tier fixtures of notify: real notify replicas, account and mail on one fresh database,
real gRPC, the real broker.

Mail runs without its SMTP worker: these tests read what notify enqueued there (the SMTP side is
mail's own tests' and the suite's).
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from galaxy.account.v1 import account_pb2_grpc
from galaxy.mail.v1 import mail_pb2_grpc
from galaxy.notify.v1 import notify_pb2_grpc
from galaxy_account.app import SERVICE as ACCOUNT
from galaxy_account.settings import AccountSettings
from galaxy_kit.testing import running_service
from galaxy_mail.app import SERVICE as MAIL
from galaxy_mail.settings import MailSettings
from galaxy_notify.app import SERVICE as NOTIFY

# The tests of this directory import notify_helpers.py (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from notify_helpers import Notify, notify_settings


@pytest.fixture
def notify_factory(fresh_database_dsn, kafka_bootstrap) -> Callable:
    """`async with notify_factory(replicas=2, **settings) as notify`: account, mail and notify replicas."""

    @contextlib.asynccontextmanager
    async def start(replicas: int = 1, **overrides) -> AsyncIterator[Notify]:
        group = f"notify-test-{uuid.uuid4().hex[:8]}"
        account_settings = AccountSettings(database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap,
                                           account_relay_enabled=False)
        mail_settings = MailSettings(database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap,
                                     mail_worker_enabled=False)
        async with (
            running_service(ACCOUNT, account_settings) as account,
            running_service(MAIL, mail_settings) as mail,
            contextlib.AsyncExitStack() as stack,
        ):
            notifies = [
                await stack.enter_async_context(running_service(NOTIFY, notify_settings(
                    fresh_database_dsn, kafka_bootstrap, account.address, mail.address, group, **overrides)))
                for _ in range(replicas)
            ]
            running = Notify([notify_pb2_grpc.NotifyServiceStub(n.channel) for n in notifies],
                             account_pb2_grpc.AccountServiceStub(account.channel),
                             mail_pb2_grpc.MailServiceStub(mail.channel), kafka_bootstrap,
                             fresh_database_dsn)
            try:
                yield running
            finally:
                for stream in running.streams:
                    await stream.close()

    return start
