"""Push streams over real gRPC: order, resumption, one stream per consumer across two replicas."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from galaxy.notify.v1 import notify_pb2
from galaxy_kit.events.testing import wait_until
from notify_helpers import intent


async def _published(notify, user: str, count: int) -> list[str]:
    """Publish `count` intents for `user`; their notification ids in push order once stored."""
    messages = [intent(user) for _ in range(count)]
    for message in messages:
        await notify.publish(message)

    async def stored() -> bool:
        keys = {n.idempotency_key for n in await notify.of_user(user)}
        return keys >= {m.intent_id for m in messages}

    await wait_until(stored, timeout=30, what=f"{count} notifications")
    by_key = {n.idempotency_key: n.notification_id for n in await notify.of_user(user)}
    return [by_key[m.intent_id] for m in messages]


def _mine(stream, ids: list[str]) -> list[str]:
    wanted = set(ids)
    return [i for i in stream.ids if i in wanted]


async def test_a_subscriber_gets_each_notification_in_order_and_resumes_after_its_last(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        gateway = f"gateway-{uuid.uuid4().hex[:6]}"
        stream = notify.subscribe(gateway)
        first = await _published(notify, user, 3)
        await wait_until(lambda: len(_mine(stream, first)) == 3, timeout=15, what="three pushes")
        assert _mine(stream, first) == first
        event = next(e for e in stream.events if e.event_id == first[0])
        assert (event.user_id, event.kind) == (user, "lobby.game.paused")
        assert dict(event.payload)["game_name"] == "Andromeda"

        await stream.close()
        # Sent while the gateway is away; it comes back with the last id it saw (the first one).
        later = await _published(notify, user, 2)
        again = notify.subscribe(gateway, last_event_id=first[0])
        await wait_until(lambda: len(_mine(again, first + later)) == 4, timeout=15, what="the resumed stream")
        assert _mine(again, first + later) == first[1:] + later
        assert again.error is None and stream.error is None, (again.error, stream.error)

        # Without an id, a consumer resumes from what notify last sent it: nothing twice.
        await again.close()
        fresh = await _published(notify, user, 1)
        third = notify.subscribe(gateway)
        await wait_until(lambda: len(_mine(third, first + later + fresh)) >= 1, timeout=15, what="the next push")
        await asyncio.sleep(1.0)
        assert _mine(third, first + later + fresh) == fresh


async def test_a_bad_or_unknown_last_event_id_is_invalid_argument(notify_factory):
    async with notify_factory() as notify:
        for last in ("not-a-uuid", str(uuid.uuid4())):
            stream = notify.subscribe("gateway-x", last_event_id=last)
            await wait_until(lambda s=stream: s.error is not None, timeout=15, what="the refusal")
            assert stream.error.code() == grpc.StatusCode.INVALID_ARGUMENT
        empty = notify.subscribe("")
        await wait_until(lambda: empty.error is not None, timeout=15, what="the refusal")
        assert empty.error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_two_replicas_send_each_event_once_per_consumer(notify_factory):
    async with notify_factory(replicas=2) as notify:
        user = await notify.user()
        # Gateway A connects through both replicas (two edges); gateway B through the second only.
        a_first = notify.subscribe("gateway-a", replica=0)
        await wait_until(_holding(notify, "gateway-a"), timeout=15, what="gateway-a held")
        a_second = notify.subscribe("gateway-a", replica=1)
        b = notify.subscribe("gateway-b", replica=1)
        ids = await _published(notify, user, 10)
        await wait_until(lambda: len(_mine(b, ids)) == 10, timeout=20, what="gateway-b's pushes")
        await wait_until(lambda: len(_mine(a_first, ids)) == 10, timeout=20, what="gateway-a's pushes")
        await asyncio.sleep(1.0)
        assert _mine(a_first, ids) == ids and _mine(a_second, ids) == []
        assert _mine(b, ids) == ids

        # The active stream goes; the standby on the other replica takes over from the saved cursor.
        await a_first.close()
        more = await _published(notify, user, 5)
        await wait_until(lambda: len(_mine(a_second, more)) == 5, timeout=20, what="the standby taking over")
        await asyncio.sleep(1.0)
        assert _mine(a_second, ids + more) == more
        assert _mine(b, ids + more) == ids + more


def _holding(notify, consumer: str):
    async def check() -> bool:
        import sqlalchemy as sa
        from galaxy_kit.db import create_engine
        engine = create_engine(notify.dsn)
        try:
            async with engine.connect() as connection:
                until = (await connection.execute(sa.text(
                    "SELECT connected_until FROM notify.push_consumers WHERE consumer_id = :c"), {"c": consumer},
                )).scalar_one_or_none()
            return until is not None
        finally:
            await engine.dispose()
    return check


async def test_concurrent_subscriptions_of_one_consumer_leave_one_sender(notify_factory):
    async with notify_factory(replicas=2) as notify:
        user = await notify.user()
        streams = [notify.subscribe("gateway-c", replica=i % 2) for i in range(4)]
        ids = await _published(notify, user, 6)
        await wait_until(lambda: sum(len(_mine(s, ids)) for s in streams) >= 6, timeout=20, what="pushes")
        await asyncio.sleep(1.5)
        receivers = [s for s in streams if _mine(s, ids)]
        assert len(receivers) == 1 and _mine(receivers[0], ids) == ids


@pytest.mark.parametrize("page_size", [1])
async def test_notifications_list_pages(notify_factory, page_size):
    async with notify_factory() as notify:
        user = await notify.user()
        await _published(notify, user, 2)
        reply = await notify.stub.AdminNotificationsList(
            notify_pb2.AdminNotificationsListRequest(page=2, page_size=page_size))
        assert reply.page == 2 and reply.page_size == 1 and reply.total >= 2 and len(reply.items) == 1
