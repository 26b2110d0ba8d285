"""Service-tier fixtures of geo: the real geo and account services on one fresh database, a real
broker, real gRPC. Account's relay is on, so a deletion reaches geo's lifecycle consumer as in
production."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.geo.v1 import geo_pb2_grpc
from galaxy_account.app import SERVICE as ACCOUNT
from galaxy_account.settings import AccountSettings
from galaxy_geo.app import SERVICE as GEO
from galaxy_geo.settings import GeoSettings
from galaxy_kit.db import create_engine
from galaxy_kit.testing import running_service


@dataclass
class Geo:
    stub: geo_pb2_grpc.GeoServiceStub
    account: account_pb2_grpc.AccountServiceStub
    settings: GeoSettings

    async def user(self, label: str = "pilot") -> str:
        reply = await self.account.EnsureAccountByEmail(
            account_pb2.EnsureAccountByEmailRequest(
                email=f"{label}-{uuid.uuid4().hex[:10]}@example.test",
                preferred_language="en",
                time_zone="UTC",
            )
        )
        return reply.user_id

    async def declared_country(self, user_id: str) -> str | None:
        reply = await self.account.InternalUsersGetAccountInternal(
            account_pb2.InternalUsersGetAccountInternalRequest(user_id=user_id)
        )
        return (
            reply.account.declared_country if reply.account.HasField("declared_country") else None
        )

    async def sql(self, statement: str, **params) -> list[sa.Row]:
        engine = create_engine(self.settings.database_dsn(), pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(sa.text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            await engine.dispose()


@pytest.fixture
def start_geo(fresh_database_dsn, kafka_bootstrap) -> Callable:
    @asynccontextmanager
    async def start(**overrides) -> AsyncIterator[Geo]:
        account_settings = AccountSettings(
            database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap
        )
        async with running_service(ACCOUNT, account_settings) as account:
            settings = GeoSettings(
                database_url=fresh_database_dsn,
                kafka_bootstrap_servers=kafka_bootstrap,
                account_grpc_target=account.address,
                **{
                    "geo_lifecycle_consumer_enabled": False,
                    "geo_lifecycle_session_timeout_ms": 2000,
                    **overrides,
                },
            )
            async with running_service(GEO, settings) as geo:
                yield Geo(
                    geo_pb2_grpc.GeoServiceStub(geo.channel),
                    account_pb2_grpc.AccountServiceStub(account.channel),
                    settings,
                )

    return start


@pytest.fixture
async def geo(start_geo) -> AsyncIterator[Geo]:
    async with start_geo() as running:
        yield running
