"""Device sessions over real gRPC: list, revoke, revoke all, the gateway's lookup, revocation records."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from galaxy.auth.v1 import auth_pb2
from galaxy.events.v1.auth_pb2 import DeviceSessionRevoked
from galaxy_auth.domain import sessions as device_sessions
from galaxy_kit.db import create_engine, session_factory
from galaxy_kit.events import unpack, unpack_payload

from auth_testkit import Auth, new_address, rpc_error


async def list_sessions(auth: Auth, user_id: str) -> list[auth_pb2.DeviceSession]:
    return list((await auth.stub.UserSessionsList(auth_pb2.UserSessionsListRequest(user_id=user_id))).items)


async def revoke(auth: Auth, user_id: str, device_session_id: str) -> auth_pb2.DeviceSession:
    return await auth.stub.UserSessionsRevoke(
        auth_pb2.UserSessionsRevokeRequest(user_id=user_id, device_session_id=device_session_id)
    )


async def revoke_all(auth: Auth, user_id: str) -> auth_pb2.DeviceSessionRevocationSummary:
    return await auth.stub.UserSessionsRevokeAll(auth_pb2.UserSessionsRevokeAllRequest(user_id=user_id))


async def revocations(auth: Auth, device_session_id: str) -> list[dict]:
    return await auth.fetch(
        "SELECT actor_kind, actor_id, user_id, revoked_at FROM auth.session_revocations"
        " WHERE device_session_id = :id",
        id=device_session_id,
    )


async def revocation_events(auth: Auth, user_id: str) -> list[dict]:
    """auth's outbox rows about `user_id`, oldest first, with their DeviceSessionRevoked payload."""
    rows = await auth.fetch(
        "SELECT topic, payload, published_at FROM auth.outbox WHERE key = :u ORDER BY id", u=user_id
    )
    for row in rows:
        row["event"] = unpack_payload(unpack(bytes(row.pop("payload"))), DeviceSessionRevoked)
    return rows


async def wait_until_published(auth: Auth, user_id: str, count: int) -> list[dict]:
    """The relay publishes auth's outbox (poll or NOTIFY); generous on a loaded machine."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        rows = await revocation_events(auth, user_id)
        if len(rows) == count and all(row["published_at"] is not None for row in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, rows
        await asyncio.sleep(0.1)


async def test_revoke_one_then_all(auth: Auth, start_auth):
    address = new_address("devices")
    phone, laptop, tablet = [await auth.sign_in(address) for _ in range(3)]
    user_id = (await auth.session(phone)).user_id
    listed = await list_sessions(auth, user_id)
    assert {s.device_session_id for s in listed} == {phone, laptop, tablet}
    assert all(s.status == "active" and s.user_id == user_id for s in listed)

    revoked = await revoke(auth, user_id, phone)
    assert revoked.status == "revoked" and revoked.HasField("revoked_at")

    # Visible at once, also through another replica (no cache anywhere).
    async with start_auth() as replica:
        seen = await replica.session(phone)
    assert seen.status == "revoked"
    assert seen.revoked_at == revoked.revoked_at
    assert seen.user_id == user_id

    [record] = await revocations(auth, phone)
    assert record["actor_kind"] == "user_self" and record["actor_id"] == user_id
    assert str(record["user_id"]) == user_id

    # Revoking it again changes nothing and records nothing.
    again = await revoke(auth, user_id, phone)
    assert again.revoked_at == revoked.revoked_at
    assert len(await revocations(auth, phone)) == 1
    assert {s.device_session_id for s in await list_sessions(auth, user_id)} == {laptop, tablet}

    summary = await revoke_all(auth, user_id)
    assert summary.user_id == user_id and summary.revoked_count == 2
    for device in (laptop, tablet):
        session = await auth.session(device)
        assert session.status == "revoked" and session.HasField("revoked_at")
        assert [r["actor_kind"] for r in await revocations(auth, device)] == ["user_self"]
    assert await list_sessions(auth, user_id) == []
    assert (await revoke_all(auth, user_id)).revoked_count == 0


async def test_every_revocation_publishes_one_event_per_session(auth: Auth):
    """The edges evict cached lookups on these events, so none may be missing or doubled."""
    address = new_address("events")
    phone, laptop, tablet = [await auth.sign_in(address) for _ in range(3)]
    user_id = (await auth.session(phone)).user_id
    assert await revocation_events(auth, user_id) == []  # signing in publishes nothing

    revoked = await revoke(auth, user_id, phone)
    await revoke(auth, user_id, phone)  # already revoked: no second event
    await revoke_all(auth, user_id)
    await revoke_all(auth, user_id)  # nothing left to revoke: no event

    rows = await wait_until_published(auth, user_id, 3)
    assert {row["topic"] for row in rows} == {"galaxy.auth.sessions.v1"}
    events = [row["event"] for row in rows]
    assert events[0].device_session_id == phone
    assert {e.device_session_id for e in events[1:]} == {laptop, tablet}
    assert {e.user_id for e in events} == {user_id}
    assert events[0].revoked_at == revoked.revoked_at
    for event in events[1:]:
        assert event.revoked_at == (await auth.session(event.device_session_id)).revoked_at


async def test_a_refused_revocation_publishes_nothing(auth: Auth):
    mine = await auth.sign_in(new_address("me"))
    theirs = await auth.sign_in(new_address("them"))
    my_user = (await auth.session(mine)).user_id
    their_user = (await auth.session(theirs)).user_id
    await rpc_error(revoke(auth, my_user, theirs))
    assert await revocation_events(auth, their_user) == []
    assert await revocation_events(auth, my_user) == []


async def test_another_users_session_is_not_found(auth: Auth):
    mine = await auth.sign_in(new_address("me"))
    theirs = await auth.sign_in(new_address("them"))
    my_user = (await auth.session(mine)).user_id

    errors = [
        await rpc_error(revoke(auth, my_user, target))
        for target in (theirs, str(uuid.uuid4()), "not-a-uuid")
    ]
    assert {e.code() for e in errors} == {grpc.StatusCode.NOT_FOUND}
    assert len({e.details() for e in errors}) == 1  # one shape for foreign, missing and malformed
    assert (await auth.session(theirs)).status == "active"
    assert await revocations(auth, theirs) == []


async def test_looking_up_an_unknown_session_is_not_found(auth: Auth):
    for device_session_id in (str(uuid.uuid4()), "nope"):
        error = await rpc_error(auth.session(device_session_id))
        assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_a_malformed_caller_is_an_invalid_request(auth: Auth):
    error = await rpc_error(list_sessions(auth, "not-a-uuid"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await list_sessions(auth, str(uuid.uuid4())) == []


async def test_an_administrators_revocation_publishes_too(auth: Auth):
    """No admin route revokes sessions yet; the domain call it will use already publishes."""
    address = new_address("admin-revoked")
    devices = [await auth.sign_in(address) for _ in range(2)]
    user_id = (await auth.session(devices[0])).user_id
    engine = create_engine(auth.settings.database_dsn(), pool_size=1, max_overflow=0)
    try:
        summary = await device_sessions.revoke_all_sessions(
            sessions=session_factory(engine),
            user_id=user_id,
            actor_kind="admin",
            actor_id="root-admin",
            reason="admin_revoked_sessions",
        )
    finally:
        await engine.dispose()
    assert summary.revoked_count == 2
    rows = await wait_until_published(auth, user_id, 2)
    assert sorted(row["event"].device_session_id for row in rows) == sorted(devices)
    assert [r["actor_kind"] for d in devices for r in await revocations(auth, d)] == ["admin"] * 2
