"""Service-tier fixtures of account: the real service on a fresh database, a real broker, real gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from galaxy.account.v1 import account_pb2_grpc
from galaxy_kit.testing import running_service

from galaxy_account.app import SERVICE
from galaxy_account.settings import AccountSettings


@pytest.fixture
async def account(fresh_database_dsn, kafka_bootstrap) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    # The relay is off: these tests read the outbox table; the suite tests follow events end to end.
    settings = AccountSettings(
        database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap, account_relay_enabled=False
    )
    async with running_service(SERVICE, settings) as service:
        stub = account_pb2_grpc.AccountServiceStub(service.channel)
        stub.database_url = fresh_database_dsn
        yield stub


@pytest.fixture
async def account_without_read_cache(
    fresh_database_dsn, kafka_bootstrap
) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    settings = AccountSettings(
        database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap, account_relay_enabled=False,
        account_read_cache_seconds=0,
    )
    async with running_service(SERVICE, settings) as service:
        stub = account_pb2_grpc.AccountServiceStub(service.channel)
        stub.database_url = fresh_database_dsn
        yield stub
