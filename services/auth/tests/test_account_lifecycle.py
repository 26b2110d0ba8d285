"""Auth's consumer of galaxy.account.lifecycle.v1 on a real broker: every session revoked, each event once."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.auth_pb2 import DeviceSessionRevoked
from galaxy_kit.db import create_engine
from galaxy_kit.events import new_envelope, pack, unpack, unpack_payload

from auth_testkit import Auth, new_address

TOPIC = "galaxy.account.lifecycle.v1"
WAIT_SECONDS = 60.0


async def publish(bootstrap: str, *envelopes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for envelope in envelopes:
            payload = AccountLifecycleEvent()
            envelope.payload.Unpack(payload)
            await producer.send_and_wait(TOPIC, value=pack(envelope), key=payload.user_id.encode())
    finally:
        await producer.stop()


def lifecycle(user_id: str, kind: str = "soft_deleted"):
    return new_envelope(
        AccountLifecycleEvent(user_id=user_id, kind=kind, actor_type="admin", actor_id="root", reason_code="test"),
        "account",
    )


async def execute(auth: Auth, sql: str, **params) -> None:
    engine = create_engine(auth.settings.database_dsn(), pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql), params)
    finally:
        await engine.dispose()


async def wait_for(check, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


async def test_an_event_revokes_every_session_once(start_auth, kafka_bootstrap):
    async with start_auth(auth_lifecycle_consumer_enabled=True, auth_lifecycle_session_timeout_ms=2000) as auth:
        auth: Auth
        address = new_address("lifecycle")
        devices = [await auth.sign_in(address) for _ in range(2)]
        user_id = (await auth.session(devices[0])).user_id
        first = lifecycle(user_id)
        await publish(kafka_bootstrap, first)

        async def revoked() -> bool:
            return all([(await auth.session(d)).status == "revoked" for d in devices])

        await wait_for(revoked, "the sessions were not revoked")
        records = await auth.fetch(
            "SELECT actor_kind, actor_id, reason FROM auth.session_revocations WHERE user_id = :u", u=user_id
        )
        assert records == [{"actor_kind": "system", "actor_id": first.event_id,
                            "reason": "account_soft_deleted"}] * 2
        # The cascade tells the edges too: one DeviceSessionRevoked per session, in its transaction.
        queued = await auth.fetch(
            "SELECT payload FROM auth.outbox WHERE key = :u AND topic = 'galaxy.auth.sessions.v1'", u=user_id
        )
        assert sorted(
            unpack_payload(unpack(bytes(row["payload"])), DeviceSessionRevoked).device_session_id
            for row in queued
        ) == sorted(devices)

        # A session appearing later is untouched by a redelivery of the same event,
        # and revoked by the next event of the user (which comes after it on the partition).
        late = uuid.uuid4()
        await execute(
            auth,
            "INSERT INTO auth.device_sessions (device_session_id, user_id, client_public_key, time_zone, challenge_id)"
            " VALUES (:s, :u, 'key', 'UTC', :c)",
            s=late, u=uuid.UUID(user_id), c=uuid.uuid4(),
        )
        second = lifecycle(user_id, "permanently_blocked")
        await publish(kafka_bootstrap, first, second)

        async def late_revoked() -> bool:
            return (await auth.session(str(late))).status == "revoked"

        await wait_for(late_revoked, "the second event was not applied")
        [record] = await auth.fetch(
            "SELECT actor_id, reason FROM auth.session_revocations WHERE device_session_id = :s", s=late
        )
        assert record == {"actor_id": second.event_id, "reason": "account_permanently_blocked"}
        inbox = await auth.fetch("SELECT count(*) AS n FROM auth.inbox WHERE event_id = :e", e=uuid.UUID(first.event_id))
        assert inbox == [{"n": 1}]
