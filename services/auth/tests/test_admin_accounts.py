"""Administrator accounts over real gRPC: create, list, get, disable, enable, reset; the credential check follows."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy.events.v1.auth_pb2 import AdminCredentialsChanged
from galaxy_kit.events import unpack, unpack_payload
from galaxy_kit.testing import running_service

from auth_testkit import ADMIN, ADMIN_PASSWORD, auth_settings, rpc_error
from galaxy_auth.app import SERVICE

NEW_PASSWORD = "a brand new pass phrase"


class Admin:
    def __init__(self, stub: auth_pb2_grpc.AuthServiceStub, service) -> None:
        self.stub = stub
        self.service = service

    async def create(self, username: str, password: str = NEW_PASSWORD) -> auth_pb2.AdminAccount:
        return await self.stub.AdminAdminAccountsCreate(
            auth_pb2.AdminAdminAccountsCreateRequest(
                admin_username=ADMIN, body=auth_pb2.AdminAccountCreateRequest(username=username, password=password)
            )
        )

    async def get(self, username: str) -> auth_pb2.AdminAccount:
        return await self.stub.AdminAdminAccountsGet(
            auth_pb2.AdminAdminAccountsGetRequest(admin_username=ADMIN, username=username)
        )

    async def list(self) -> list[auth_pb2.AdminAccount]:
        reply = await self.stub.AdminAdminAccountsList(auth_pb2.AdminAdminAccountsListRequest(admin_username=ADMIN))
        return list(reply.items)

    async def disable(self, username: str) -> auth_pb2.AdminAccount:
        return await self.stub.AdminAdminAccountsDisable(
            auth_pb2.AdminAdminAccountsDisableRequest(admin_username=ADMIN, username=username)
        )

    async def enable(self, username: str) -> auth_pb2.AdminAccount:
        return await self.stub.AdminAdminAccountsEnable(
            auth_pb2.AdminAdminAccountsEnableRequest(admin_username=ADMIN, username=username)
        )

    async def reset(self, username: str, password: str) -> auth_pb2.AdminAccount:
        return await self.stub.AdminAdminAccountsResetPassword(
            auth_pb2.AdminAdminAccountsResetPasswordRequest(
                admin_username=ADMIN, username=username,
                body=auth_pb2.AdminAccountResetPasswordRequest(password=password),
            )
        )

    async def check(self, username: str, password: str) -> auth_pb2.AdminPrincipal:
        return await self.stub.CheckAdminCredentials(
            auth_pb2.CheckAdminCredentialsRequest(username=username, password=password)
        )


@pytest.fixture
async def admin(fresh_database_dsn, kafka_bootstrap):
    settings = auth_settings(fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap)
    async with running_service(SERVICE, settings) as service:
        yield Admin(auth_pb2_grpc.AuthServiceStub(service.channel), service)


async def test_create_get_list_and_no_hash_on_the_wire(admin: Admin):
    created = await admin.create("ops.jane")
    assert created.username == "ops.jane"
    assert created.HasField("created_at")
    assert not created.HasField("disabled_at") and not created.HasField("last_used_at")
    assert {field.name for field, _ in created.ListFields()} == {"username", "created_at"}
    assert await admin.get("ops.jane") == created
    assert [a.username for a in await admin.list()] == ["ops.jane", ADMIN]
    assert (await admin.check("ops.jane", NEW_PASSWORD)).username == "ops.jane"
    assert (await admin.get("ops.jane")).HasField("last_used_at")


async def test_a_taken_username_already_exists(admin: Admin):
    await admin.create("ops-bob")
    for username in ("ops-bob", ADMIN):
        error = await rpc_error(admin.create(username))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ab", NEW_PASSWORD),  # too short
        ("Upper", NEW_PASSWORD),  # upper case
        ("-dash-first", NEW_PASSWORD),
        ("has space", NEW_PASSWORD),
        ("colon:name", NEW_PASSWORD),  # could not be sent as Basic credentials
        ("x" * 65, NEW_PASSWORD),
        ("ops-carol", "short"),
        ("ops-carol", "é" * 37),  # 74 bytes in UTF-8: more than bcrypt reads
        ("ops-carol", "tab\there is not ok"),
        ("ops-carol-long", "ops-carol-long"),  # the username
    ],
)
async def test_username_and_password_rules(admin: Admin, username, password):
    error = await rpc_error(admin.create(username, password))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert password not in error.details()


async def test_disable_and_enable_take_effect_on_the_credential_check(admin: Admin):
    await admin.create("ops-dave")
    await admin.check("ops-dave", NEW_PASSWORD)  # now remembered by the process
    disabled = await admin.disable("ops-dave")
    assert disabled.HasField("disabled_at")
    assert (await rpc_error(admin.check("ops-dave", NEW_PASSWORD))).code() == grpc.StatusCode.UNAUTHENTICATED
    assert (await admin.disable("ops-dave")).disabled_at == disabled.disabled_at  # idempotent

    enabled = await admin.enable("ops-dave")
    assert not enabled.HasField("disabled_at")
    assert (await admin.check("ops-dave", NEW_PASSWORD)).username == "ops-dave"


async def test_reset_password_refuses_the_old_one(admin: Admin):
    await admin.check(ADMIN, ADMIN_PASSWORD)  # remembered
    await admin.reset(ADMIN, NEW_PASSWORD)
    assert (await rpc_error(admin.check(ADMIN, ADMIN_PASSWORD))).code() == grpc.StatusCode.UNAUTHENTICATED
    assert (await admin.check(ADMIN, NEW_PASSWORD)).username == ADMIN
    error = await rpc_error(admin.reset(ADMIN, "short"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    [row] = await _hashes(admin)
    assert row.startswith("$2b$04$")  # the configured cost (12 by default, 4 in tests)


async def _credential_events(admin: Admin) -> list[dict]:
    """auth's outbox rows on galaxy.auth.admins.v1, oldest first, with their payload, once the
    relay has published every one of them (generous on a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        rows = await _fetch(
            admin,
            "SELECT key, payload, published_at FROM auth.outbox"
            " WHERE topic = 'galaxy.auth.admins.v1' ORDER BY id",
        )
        if all(row["published_at"] is not None for row in rows):
            break
        assert asyncio.get_running_loop().time() < deadline, rows
        await asyncio.sleep(0.1)
    for row in rows:
        row["event"] = unpack_payload(unpack(bytes(row.pop("payload"))), AdminCredentialsChanged)
    return rows


async def test_a_disable_or_a_reset_tells_the_edges_through_the_outbox(admin: Admin):
    """The edges remember verified checks (galaxy_edge.admin_cache): every change that makes
    credentials stop working is an event they evict on; enabling or creating is not."""
    await admin.create("ops-fay")
    await admin.disable("ops-fay")
    await admin.disable("ops-fay")  # already disabled: nothing changes, nothing to tell
    await admin.enable("ops-fay")
    await admin.reset("ops-fay", NEW_PASSWORD + "!")
    rows = await _credential_events(admin)
    assert [(row["key"], row["event"].username, row["event"].change) for row in rows] == [
        ("ops-fay", "ops-fay", "disabled"),
        ("ops-fay", "ops-fay", "password_reset"),
    ]
    assert all(row["event"].changed_at.seconds > 0 for row in rows)


async def _fetch(admin: Admin, sql: str) -> list[dict]:
    import sqlalchemy as sa
    from galaxy_kit.db import create_engine

    engine = create_engine(admin.service.settings.database_dsn(), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(sa.text(sql))).mappings()]
    finally:
        await engine.dispose()


async def _hashes(admin: Admin) -> list[str]:
    import sqlalchemy as sa
    from galaxy_kit.db import create_engine

    engine = create_engine(admin.service.settings.database_dsn(), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text("SELECT password_hash FROM auth.admin_accounts"))).scalars())
    finally:
        await engine.dispose()


async def test_unknown_accounts_are_not_found(admin: Admin):
    for call in (
        admin.get("ghost"),
        admin.disable("ghost"),
        admin.enable("ghost"),
        admin.reset("ghost", NEW_PASSWORD),
        admin.get("nul\x00name"),  # not storable in PostgreSQL text: still just not found
        admin.disable("nul\x00name"),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(admin.check("nul\x00name", ADMIN_PASSWORD))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_last_active_administrator_cannot_be_disabled(admin: Admin):
    error = await rpc_error(admin.disable(ADMIN))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await admin.check(ADMIN, ADMIN_PASSWORD)).username == ADMIN
    await admin.create("ops-erin")
    await admin.disable(ADMIN)  # fine once another one is active
    assert (await rpc_error(admin.disable("ops-erin"))).code() == grpc.StatusCode.FAILED_PRECONDITION
