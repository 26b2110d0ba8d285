"""What account lets callers keep of UserAccountGet, and the AccountChanged every write publishes.

Over real gRPC against a real database. The edge keeps a user's account answer
for as long as account's trailing metadata says (galaxy_kit.caching) and
forgets it on AccountChanged: so the bound must fall before every time-based
change of the answer, and every write that changes the answer must put one
event in the outbox, in its transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from galaxy.account.v1 import account_pb2 as pb
from galaxy.events.v1.account_pb2 import AccountChanged
from galaxy_kit.caching import cacheable_for
from galaxy_kit.db import create_engine
from galaxy_kit.events import unpack, unpack_payload

from galaxy_account.domain.policy import CHANGES_TOPIC
from galaxy_account.settings import READ_CACHE_SECONDS

ADMIN = "root-admin"


async def new_user(account) -> str:
    email = f"cache-{uuid.uuid4().hex[:10]}@example.test"
    request = pb.EnsureAccountByEmailRequest(email=email, preferred_language="en", time_zone="UTC")
    return (await account.EnsureAccountByEmail(request)).user_id


def actor() -> pb.ActorRef:
    return pb.ActorRef(type="admin", id=ADMIN)


def block(user_id: str, expires: datetime | None = None) -> pb.AdminUsersAddSanctionRequest:
    request = pb.AdminUsersAddSanctionRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserSanctionRequest(sanction_code="permanent_block", scope="platform", reason_code="abuse",
                                         actor=actor()),
    )
    if expires is not None:
        request.body.expires_at.FromDatetime(expires)
    return request


async def cacheable_seconds(account, user_id: str) -> float | None:
    call = account.UserAccountGet(pb.UserAccountGetRequest(user_id=user_id))
    await call
    return cacheable_for(await call.trailing_metadata())


async def changes(account, user_id: str) -> list[AccountChanged]:
    engine = create_engine(account.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(
                sa.text("SELECT payload FROM account.outbox WHERE key = :k AND topic = :t ORDER BY id"),
                {"k": user_id, "t": CHANGES_TOPIC},
            )).mappings().all()
    finally:
        await engine.dispose()
    return [unpack_payload(unpack(bytes(r["payload"])), AccountChanged) for r in rows]


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def entitlement(user_id: str, tier: str = "monthly", *, starts: datetime | None = None,
                ends: datetime | None = None) -> pb.AdminUsersAddEntitlementRequest:
    request = pb.AdminUsersAddEntitlementRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserEntitlementRequest(tier=tier, source="admin_console", actor=actor()),
    )
    if starts is not None:
        request.body.starts_at.FromDatetime(starts)
    if ends is not None:
        request.body.ends_at.FromDatetime(ends)
    return request


def limit(user_id: str, *, expires: datetime | None = None) -> pb.AdminUsersAddLimitRequest:
    request = pb.AdminUsersAddLimitRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserLimitRequest(limit_code="max_active_games", value=2, reason_code="trial", actor=actor()),
    )
    if expires is not None:
        request.body.expires_at.FromDatetime(expires)
    return request


async def test_an_account_with_no_time_based_change_is_cacheable_for_the_setting(account):
    user_id = await new_user(account)
    assert await cacheable_seconds(account, user_id) == pytest.approx(READ_CACHE_SECONDS)
    # A paid grant that ends in an hour, a limit without end: still only the setting bounds it.
    await account.AdminUsersAddEntitlement(entitlement(user_id, ends=in_seconds(3600)))
    await account.AdminUsersAddLimit(limit(user_id))
    assert await cacheable_seconds(account, user_id) == pytest.approx(READ_CACHE_SECONDS)


@pytest.mark.parametrize("moment", ["entitlement_ends", "entitlement_starts", "sanction_expires", "limit_expires"])
async def test_the_answer_is_cacheable_only_until_it_changes_by_itself(account, moment):
    user_id = await new_user(account)
    at = in_seconds(20)
    if moment == "entitlement_ends":
        await account.AdminUsersAddEntitlement(entitlement(user_id, ends=at))
    elif moment == "entitlement_starts":
        await account.AdminUsersAddEntitlement(entitlement(user_id, "permanent", starts=at))
    elif moment == "sanction_expires":
        await account.AdminUsersAddSanction(block(user_id, at))
    else:
        await account.AdminUsersAddLimit(limit(user_id, expires=at))
    seconds = await cacheable_seconds(account, user_id)
    # Never past the change; the read itself takes a little of the 20 s (generous on a loaded machine).
    assert seconds is not None and 10 < seconds <= 20


async def test_a_setting_of_zero_makes_nothing_cacheable(account_without_read_cache):
    user_id = await new_user(account_without_read_cache)
    assert await cacheable_seconds(account_without_read_cache, user_id) is None


async def test_every_write_that_changes_the_answer_publishes_one_change(account):
    user_id = await new_user(account)
    assert await changes(account, user_id) == []  # creation: nothing was ever answered about it
    # Each a function: a gRPC call starts when it is made, and these must run one after another.
    writes = [
        lambda: account.UserAccountUpdateProfile(pb.UserAccountUpdateProfileRequest(
            user_id=user_id, body=pb.UpdateProfileRequest(display_name="Nova"))),
        lambda: account.UserAccountUpdateSettings(pb.UserAccountUpdateSettingsRequest(
            user_id=user_id, body=pb.UpdateSettingsRequest(time_zone="Europe/Paris"))),
        lambda: account.SyncDeclaredCountry(pb.SyncDeclaredCountryRequest(user_id=user_id, declared_country="FR")),
        lambda: account.AdminUsersAddEntitlement(entitlement(user_id)),
        lambda: account.AdminUsersAddLimit(limit(user_id)),
        lambda: account.AdminUsersAddSanction(block(user_id)),
    ]
    for count, write in enumerate(writes, start=1):
        await write()
        assert len(await changes(account, user_id)) == count
    # Writes that change nothing publish nothing.
    await account.UserAccountUpdateProfile(pb.UserAccountUpdateProfileRequest(
        user_id=user_id, body=pb.UpdateProfileRequest(display_name="Nova")))
    await account.UserAccountUpdateSettings(pb.UserAccountUpdateSettingsRequest(
        user_id=user_id, body=pb.UpdateSettingsRequest()))
    await account.SyncDeclaredCountry(pb.SyncDeclaredCountryRequest(user_id=user_id, declared_country="FR"))
    published = await changes(account, user_id)
    assert len(published) == len(writes)
    assert {e.user_id for e in published} == {user_id}
    assert all(e.occurred_at.ToDatetime(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=5) for e in published)


@pytest.mark.parametrize("by", ["user", "admin"])
async def test_a_deletion_publishes_a_change(account, by):
    user_id = await new_user(account)
    if by == "user":
        await account.UserAccountDelete(pb.UserAccountDeleteRequest(user_id=user_id))
    else:
        await account.AdminUsersSoftDelete(pb.AdminUsersSoftDeleteRequest(admin_username=ADMIN, user_id=user_id))
    assert [e.user_id for e in await changes(account, user_id)] == [user_id]


async def test_a_refused_write_publishes_nothing(account):
    user_id = await new_user(account)
    with pytest.raises(grpc.aio.AioRpcError):
        await account.UserAccountUpdateProfile(pb.UserAccountUpdateProfileRequest(
            user_id=user_id, body=pb.UpdateProfileRequest(display_name="<b>")))
    with pytest.raises(grpc.aio.AioRpcError):
        await account.AdminUsersAddLimit(pb.AdminUsersAddLimitRequest(
            admin_username=ADMIN, user_id=user_id,
            body=pb.AdminUserLimitRequest(limit_code="max_active_games", value=-1, reason_code="x", actor=actor())))
    assert await changes(account, user_id) == []
    assert await changes(account, str(uuid.uuid4())) == []
