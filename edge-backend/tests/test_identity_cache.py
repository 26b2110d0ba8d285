"""The identity cache: no RPC for a known active user, and never trusted beyond its feed.

The cache rules run against an injected clock; the feed runs against the
session's real Kafka-protocol broker (Tansu); the gate runs in the edge app
against a real grpc.aio account double. The two-edge test with the real
account service is tests/suite/test_edge_identity_cache.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaProducer
from edge_doubles import RecordingAccountServicerDouble, RecordingLobbyServicerDouble, edge_stack
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_edge.event_feed import EventFeed
from galaxy_edge.identity_cache import LIFECYCLE_TOPIC, IdentityCache, lifecycle_subscription
from galaxy_kit.events import ensure_topics, new_envelope, pack

USER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OTHER = "0b6d8f5e-7c1a-4f43-9a51-2f3c4d5e6f70"
#: Generous: a loaded two-core machine; the suite test holds the 1 s promise end to end.
FEED_WAIT_SECONDS = 20.0


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def confirmed_cache(clock: ManualClock, *, max_users: int = 10) -> IdentityCache:
    cache = IdentityCache(max_users=max_users, max_silence_seconds=3.0, clock=clock)
    cache.confirm(clock.now)
    return cache


def test_a_remembered_user_is_active_until_an_event_evicts_it() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    cache.remember(USER, cache.generation)
    cache.remember(OTHER, cache.generation)
    assert cache.is_active(USER) and cache.is_active(OTHER)
    cache.evict(USER)
    assert not cache.is_active(USER)
    assert cache.is_active(OTHER)


def test_an_answer_older_than_an_event_is_not_remembered() -> None:
    """The lookup began before a block the feed has applied since: its `active` is stale."""
    clock = ManualClock()
    cache = confirmed_cache(clock)
    generation = cache.generation
    cache.evict(USER)  # the block arrives while account's answer is on its way
    cache.remember(USER, generation)
    assert not cache.is_active(USER)


def test_an_unconfirmed_cache_answers_nothing_and_forgets_what_it_knew() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    cache.remember(USER, cache.generation)
    clock.now += 3.0
    assert cache.is_active(USER)  # exactly the allowed silence
    clock.now += 0.5
    assert not cache.is_active(USER)
    assert len(cache) == 0
    cache.remember(USER, cache.generation)  # while unconfirmed nothing is kept
    cache.confirm(clock.now)
    assert not cache.is_active(USER)


def test_a_reset_drops_everything_and_waits_for_a_new_confirmation() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    cache.remember(USER, cache.generation)
    cache.reset()
    assert not cache.trusted and len(cache) == 0
    cache.remember(USER, cache.generation)
    assert len(cache) == 0
    cache.confirm(clock.now)
    cache.remember(USER, cache.generation)
    assert cache.is_active(USER)


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock, max_users=2)
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    cache.remember(first, cache.generation)
    cache.remember(second, cache.generation)
    assert cache.is_active(first)  # now the most recently used
    cache.remember(third, cache.generation)
    assert len(cache) == 2
    assert cache.is_active(first) and cache.is_active(third)
    assert not cache.is_active(second)


# -- the feed, against the real broker ---------------------------------------------------------


def lifecycle_feed(cache: IdentityCache, *, topic: str = LIFECYCLE_TOPIC, **options) -> EventFeed:
    """The edge's event feed following the lifecycle topic alone."""
    return EventFeed([lifecycle_subscription(cache, topic)], **options)


async def publish(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


def lifecycle_event(user_id: str, kind: str = "permanently_blocked") -> bytes:
    event = AccountLifecycleEvent(user_id=user_id, kind=kind, actor_type="admin")
    return pack(new_envelope(event, "account"))


async def eventually(predicate, what: str, timeout: float = FEED_WAIT_SECONDS) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"not {what} within {timeout}s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_the_feed_evicts_the_user_an_event_names(kafka_bootstrap, unique_topic) -> None:
    cache = IdentityCache(max_users=10, max_silence_seconds=3.0)
    feed = lifecycle_feed(cache, bootstrap_servers=kafka_bootstrap, topic=unique_topic)
    feed.start()
    try:
        await eventually(lambda: cache.trusted, "trusted")
        cache.remember(USER, cache.generation)
        cache.remember(OTHER, cache.generation)
        await publish(kafka_bootstrap, unique_topic, lifecycle_event(USER))
        await eventually(lambda: not cache.is_active(USER), "evicted")
        assert cache.is_active(OTHER)
        assert feed.applied == 1
    finally:
        await feed.stop()


async def test_events_published_before_the_feed_started_are_not_replayed(
    kafka_bootstrap, unique_topic
) -> None:
    """The feed starts at the end of the log: old events say nothing about answers to come."""
    cache = IdentityCache(max_users=10, max_silence_seconds=3.0)
    feed = lifecycle_feed(cache, bootstrap_servers=kafka_bootstrap, topic=unique_topic)
    await ensure_topics(kafka_bootstrap, [unique_topic])  # no Galaxy client auto-creates one
    await publish(kafka_bootstrap, unique_topic, lifecycle_event(OTHER))
    feed.start()
    try:
        await eventually(lambda: cache.trusted, "trusted")
        await publish(kafka_bootstrap, unique_topic, lifecycle_event(USER))
        await eventually(lambda: feed.applied == 1, "applied")
        await asyncio.sleep(0.5)
        assert feed.applied == 1
    finally:
        await feed.stop()


async def test_a_malformed_record_empties_the_cache(kafka_bootstrap, unique_topic) -> None:
    cache = IdentityCache(max_users=10, max_silence_seconds=3.0)
    feed = lifecycle_feed(cache, bootstrap_servers=kafka_bootstrap, topic=unique_topic)
    feed.start()
    try:
        await eventually(lambda: cache.trusted, "trusted")
        cache.remember(OTHER, cache.generation)
        await publish(kafka_bootstrap, unique_topic, b"not an envelope")
        await eventually(lambda: len(cache) == 0, "emptied")
        assert cache.resets >= 2  # the start, then the malformed record
    finally:
        await feed.stop()


async def test_a_feed_without_a_broker_is_never_trusted() -> None:
    cache = IdentityCache(max_users=10, max_silence_seconds=0.5)
    feed = lifecycle_feed(
        cache, bootstrap_servers="127.0.0.1:1", heartbeat_seconds=0.1, request_timeout_seconds=1
    )
    feed.start()
    try:
        await asyncio.sleep(2.0)
        assert not cache.trusted
        cache.remember(USER, cache.generation)
        assert not cache.is_active(USER)
    finally:
        await feed.stop()


# -- the gate -------------------------------------------------------------------------------------


async def test_a_known_active_user_costs_one_lookup_then_none(kafka_bootstrap) -> None:
    account = RecordingAccountServicerDouble()
    lobby = RecordingLobbyServicerDouble()
    settings = {"identity_cache_max_users": 100, "kafka_bootstrap_servers": kafka_bootstrap}
    async with edge_stack(account=account, lobby=lobby, settings=settings) as stack:
        cache = stack.edge.active_users
        await eventually(lambda: cache.trusted, "trusted")
        for _ in range(5):
            response = await stack.client.get(
                "/api/v1/user/lobby/games", headers={"X-User-ID": USER}
            )
            assert response.status_code == 200
    assert len(account.requests("ResolveUserIdentity")) == 1
    assert len(lobby.requests("UserLobbyGamesList")) == 5


async def test_refused_users_are_not_remembered(kafka_bootstrap) -> None:
    account = RecordingAccountServicerDouble({USER: "blocked"})
    settings = {"identity_cache_max_users": 100, "kafka_bootstrap_servers": kafka_bootstrap}
    async with edge_stack(account=account, settings=settings) as stack:
        await eventually(lambda: stack.edge.active_users.trusted, "trusted")
        for _ in range(3):
            response = await stack.client.get(
                "/api/v1/user/lobby/games", headers={"X-User-ID": USER}
            )
            assert response.status_code == 400
    assert len(account.requests("ResolveUserIdentity")) == 3


async def test_without_a_healthy_feed_every_request_asks_account() -> None:
    account = RecordingAccountServicerDouble()
    settings = {
        "identity_cache_max_users": 100,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "identity_feed_max_silence_seconds": 0.5,
    }
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(account=account, lobby=lobby, settings=settings) as stack:
        for _ in range(3):
            response = await stack.client.get(
                "/api/v1/user/lobby/games", headers={"X-User-ID": USER}
            )
            assert response.status_code == 200
    assert len(account.requests("ResolveUserIdentity")) == 3


class DeletingAccountServicerDouble(RecordingAccountServicerDouble):
    """Account whose UserAccountDelete makes the caller `deleted` (no event reaches the edge)."""

    async def UserAccountDelete(self, request, context):
        self.statuses[request.user_id] = "deleted"
        return await super().UserAccountDelete(request, context)


async def test_a_write_to_account_about_a_user_makes_this_edge_check_again(
    kafka_bootstrap,
) -> None:
    """Read-your-writes on one edge: no waiting for the feed after deleting oneself here."""
    account = DeletingAccountServicerDouble()
    lobby = RecordingLobbyServicerDouble()
    settings = {"identity_cache_max_users": 100, "kafka_bootstrap_servers": kafka_bootstrap}
    headers = {"X-User-ID": USER}
    async with edge_stack(account=account, lobby=lobby, settings=settings) as stack:
        await eventually(lambda: stack.edge.active_users.trusted, "trusted")
        for _ in range(2):
            listed = await stack.client.get("/api/v1/user/lobby/games", headers=headers)
            assert listed.status_code == 200
        deleted = await stack.client.post("/api/v1/user/account/delete", headers=headers)
        refused = await stack.client.get("/api/v1/user/lobby/games", headers=headers)
    assert deleted.status_code == 204
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "X-User-ID: the user account is deleted"
    # cached after the first lookup; the delete itself was checked from the cache; then asked again
    assert len(account.requests("ResolveUserIdentity")) == 2
