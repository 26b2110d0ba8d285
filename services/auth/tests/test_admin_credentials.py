"""Auth's administrator credential check, over real gRPC against a real database."""

from __future__ import annotations

import bcrypt
import grpc
import pytest
import sqlalchemy as sa
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy_kit.db import create_engine
from galaxy_kit.testing import running_service

from galaxy_auth.app import SERVICE
from galaxy_auth.domain import admin_accounts as admin_domain
from galaxy_auth.settings import AuthSettings

ADMIN = "root-admin"
PASSWORD = "correct horse battery staple"


def settings_for(dsn: str, **overrides) -> AuthSettings:
    # Cost 4 keeps the test quick; production uses 12 (see test_default_cost_is_12).
    values = dict(database_url=dsn, admin_username=ADMIN, admin_password=PASSWORD, admin_bcrypt_rounds=4)
    values.update(overrides)
    return AuthSettings(**values)


@pytest.fixture
async def auth(fresh_database_dsn):
    async with running_service(SERVICE, settings_for(fresh_database_dsn)) as service:
        yield service, auth_pb2_grpc.AuthServiceStub(service.channel)


async def check(stub, username, password):
    return await stub.CheckAdminCredentials(
        auth_pb2.CheckAdminCredentialsRequest(username=username, password=password)
    )


async def test_default_cost_is_12():
    assert AuthSettings().admin_bcrypt_rounds == 12


async def test_first_admin_is_created_from_configuration(auth):
    _, stub = auth
    assert (await check(stub, ADMIN, PASSWORD)).username == ADMIN


@pytest.mark.parametrize(
    ("username", "password"),
    [(ADMIN, "wrong"), ("nobody", PASSWORD), (ADMIN, ""), ("", "")],
)
async def test_bad_credentials_are_unauthenticated(auth, username, password):
    _, stub = auth
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(stub, username, password)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert PASSWORD not in (raised.value.details() or "")


async def test_repeated_checks_do_not_pay_bcrypt_again(auth, monkeypatch):
    _, stub = auth
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(admin_domain.bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    for _ in range(5):
        await check(stub, ADMIN, PASSWORD)
    assert len(calls) == 1


async def test_disabled_and_reset_accounts_are_refused_despite_the_cache(auth):
    service, stub = auth
    await check(stub, ADMIN, PASSWORD)  # now cached
    engine = create_engine(service.settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE auth.admin_accounts SET status = 'disabled'"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(stub, ADMIN, PASSWORD)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED

    new_hash = bcrypt.hashpw(b"another password", bcrypt.gensalt(rounds=4)).decode()
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE auth.admin_accounts SET status = 'active', password_hash = :h"), {"h": new_hash}
        )
    with pytest.raises(grpc.aio.AioRpcError):
        await check(stub, ADMIN, PASSWORD)
    assert (await check(stub, ADMIN, "another password")).username == ADMIN
    await engine.dispose()


async def test_last_used_at_is_recorded(auth):
    service, stub = auth
    await check(stub, ADMIN, PASSWORD)
    engine = create_engine(service.settings.database_url)
    async with engine.connect() as conn:
        used = (await conn.execute(sa.text("SELECT last_used_at FROM auth.admin_accounts"))).scalar_one()
    await engine.dispose()
    assert used is not None


async def test_bootstrap_never_replaces_an_existing_administrator(fresh_database_dsn):
    async with running_service(SERVICE, settings_for(fresh_database_dsn)):
        pass
    other = settings_for(fresh_database_dsn, admin_username="second", admin_password="other password")
    async with running_service(SERVICE, other) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        assert (await check(stub, ADMIN, PASSWORD)).username == ADMIN
        with pytest.raises(grpc.aio.AioRpcError):
            await check(stub, "second", "other password")


async def test_no_administrator_without_configuration(fresh_database_dsn):
    settings = settings_for(fresh_database_dsn, admin_username="", admin_password="")
    async with running_service(SERVICE, settings) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        with pytest.raises(grpc.aio.AioRpcError):
            await check(stub, "admin", "admin")
