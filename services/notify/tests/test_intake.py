"""Intake from the real broker: valid intents stored once, invalid ones kept as malformed."""

from __future__ import annotations

import uuid

import asyncpg
from galaxy.notify.v1 import notify_pb2
from galaxy_kit.db import plain_dsn
from galaxy_kit.events.testing import wait_until
from galaxy_notify.domain import kinds
from notify_helpers import intent


async def _malformed(notify) -> dict[str, notify_pb2.NotificationMalformed]:
    reply = await notify.stub.AdminNotificationsListMalformed(
        notify_pb2.AdminNotificationsListMalformedRequest(page=1, page_size=200))
    return {m.id: m for m in reply.items}


async def test_a_valid_intent_becomes_one_notification_even_when_published_twice(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        first = intent(user, kind="lobby.invite.received", params={
            "game_id": str(uuid.uuid4()), "game_name": "Andromeda", "invite_id": str(uuid.uuid4()),
            "inviter_user_id": str(uuid.uuid4()), "race_name": "Zorgons", "expires_at": "2030-01-01T00:00:00Z"})
        await notify.publish(first)
        await notify.publish(first)  # same intent, another envelope (a producer retrying)
        again = uuid.uuid4()
        second = intent(user)
        await notify.publish(second, event_id=again)
        await notify.publish(second, event_id=again)  # the same record redelivered
        await wait_until(lambda: _count(notify, user, 2), timeout=30, what="two notifications")
        stored = {n.idempotency_key: n for n in await notify.of_user(user)}
        assert set(stored) == {first.intent_id, second.intent_id}
        invite = stored[first.intent_id]
        assert invite.kind == "lobby.invite.received"
        assert dict(invite.payload)["race_name"] == "Zorgons"
        detail = await notify.stub.AdminNotificationsGet(
            notify_pb2.AdminNotificationsGetRequest(notification_id=invite.notification_id))
        assert detail == invite


async def _count(notify, user: str, expected: int) -> bool:
    return len(await notify.of_user(user)) >= expected


async def test_invalid_intents_are_kept_with_their_reason_and_never_block_the_next(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        bad = [
            (intent(user, kind="lobby.game.exploded"), "kind: unknown kind 'lobby.game.exploded'"),
            (intent(user, params={"game_id": "not-a-uuid", "game_name": "X", "status": "paused"}),
             "params.game_id"),
            (intent(user, params={"game_id": str(uuid.uuid4()), "game_name": "X", "status": "paused",
                                  "surprise": "1"}), "params.surprise: Extra inputs are not permitted"),
            (intent(user, kind="runtime.turn.completed", params={"game_id": str(uuid.uuid4()), "turn": 3}),
             "source: runtime.turn.completed is published by runtime, not 'lobby'"),
            (intent("someone", params=None), "user_id: not a UUID"),
        ]
        event_ids = [uuid.uuid4() for _ in bad]
        for (message, _), event_id in zip(bad, event_ids, strict=True):
            await notify.publish(message, event_id=event_id)
        await notify.publish_raw(b"\x00 not an envelope")
        good = intent(user)
        await notify.publish(good)

        await wait_until(lambda: _count(notify, user, 1), timeout=30, what="the valid intent after the bad ones")

        async def every_bad_one_kept() -> bool:
            # Keyed by user, and the unkeyed raw record on any partition: each may trail the good one.
            kept = await _malformed(notify)
            return {str(e) for e in event_ids} <= set(kept) and any(
                m.reason.startswith("not a notification intent") for m in kept.values())

        await wait_until(every_bad_one_kept, timeout=30, what="every malformed intent kept")
        malformed = await _malformed(notify)
        for (message, reason), event_id in zip(bad, event_ids, strict=True):
            kept = malformed[str(event_id)]
            assert reason in kept.reason, kept.reason
            assert dict(kept.payload)["intent"]["intent_id"] == message.intent_id
        assert any(m.reason.startswith("not a notification intent") and "value_base64" in m.payload
                   for m in malformed.values())
        assert [n.idempotency_key for n in await notify.of_user(user)] == [good.intent_id]


async def test_a_runtime_turn_intent_fits_its_schema(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        game = str(uuid.uuid4())
        turn = intent(user, kind="runtime.turn.completed", source="runtime",
                      params_json=b'{"game_id": "%s", "turn": 7}' % game.encode())
        await notify.publish(turn)
        await wait_until(lambda: _count(notify, user, 1), timeout=30, what="the turn notification")
        [stored] = await notify.of_user(user)
        assert stored.kind == "runtime.turn.completed" and dict(stored.payload)["turn"] == 7
        # Kept as the integer it was sent as: 7, not 7.0 (a Struct would have made it a double).
        assert await _stored_turn(notify, user) == "7"


async def test_a_turn_from_a_struct_intent_is_stored_as_an_integer(notify_factory):
    """An intent published before params_json (a Struct: turn 7 arrives as 7.0) is stored as turn 7."""
    async with notify_factory() as notify:
        user = await notify.user()
        await notify.publish(intent(user, kind="runtime.turn.completed", source="runtime",
                                    params={"game_id": str(uuid.uuid4()), "turn": 7}))
        await wait_until(lambda: _count(notify, user, 1), timeout=30, what="the turn notification")
        assert await _stored_turn(notify, user) == "7"


async def test_params_json_that_is_not_an_object_or_has_a_fractional_turn_is_malformed(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        game = str(uuid.uuid4()).encode()
        bad = [
            (b'{"game_id": "%s", "turn": 7.5}' % game, "params.turn: Input should be a valid integer"),
            (b'{"game_id": "%s", "turn": "7"}' % game, "params.turn: Input should be a valid integer"),
            (b'[1, 2]', "params: a JSON object is expected, not list"),
            (b'{"game_id": ', "params_json: not JSON text"),
        ]
        event_ids = [uuid.uuid4() for _ in bad]
        for (text, _), event_id in zip(bad, event_ids, strict=True):
            await notify.publish(intent(user, kind="runtime.turn.completed", source="runtime", params_json=text),
                                 event_id=event_id)

        async def every_one_kept() -> bool:
            return {str(e) for e in event_ids} <= set(await _malformed(notify))

        await wait_until(every_one_kept, timeout=30, what="every malformed intent kept")
        malformed = await _malformed(notify)
        for (text, reason), event_id in zip(bad, event_ids, strict=True):
            kept = malformed[str(event_id)]
            assert reason in kept.reason, kept.reason
            assert dict(kept.payload)["intent"]["params_json"] == text.decode()  # the text as received
        assert await notify.of_user(user) == []


async def _stored_turn(notify, user: str) -> str:
    """The stored payload's turn as PostgreSQL keeps it (jsonb numbers keep their written form)."""
    connection = await asyncpg.connect(plain_dsn(notify.dsn))
    try:
        return await connection.fetchval("SELECT payload->>'turn' FROM notify.notifications WHERE user_id = $1",
                                         uuid.UUID(user))
    finally:
        await connection.close()


def test_the_registry_checks_every_kind_and_its_producer():
    with_turn = {"game_id": str(uuid.uuid4()), "turn": 2.5}
    try:
        kinds.check(intent_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), kind="runtime.turn.completed",
                    source="runtime", params=with_turn, occurred_at=None)
    except kinds.InvalidIntent as error:
        assert "params.turn" in str(error) and "occurred_at: missing" in str(error)
    else:
        raise AssertionError("a fractional turn and no occurred_at were accepted")
    assert {k.producer for k in kinds.KINDS.values()} == {"lobby", "runtime"}


async def test_admin_paging_is_checked(notify_factory):
    import grpc
    import pytest
    async with notify_factory() as notify:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await notify.stub.AdminNotificationsList(notify_pb2.AdminNotificationsListRequest(page=1, page_size=201))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await notify.stub.AdminNotificationsGet(
                notify_pb2.AdminNotificationsGetRequest(notification_id=str(uuid.uuid4())))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
