"""The session cache: an active session's lookup costs auth one RPC, then none until it is
revoked, expires, or the feed cannot be trusted.

The cache rules run against an injected clock; the feed runs against the session's real
Kafka-protocol broker (Tansu); the route runs in the edge app against a real grpc.aio auth
double. The two-edge test with the real auth and account services is
tests/suite/test_edge_session_cache.py.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
from edge_doubles import RecordingAuthServicerDouble, edge_stack
from galaxy.auth.v1 import auth_pb2
from galaxy.events.v1.auth_pb2 import DeviceSessionRevoked
from galaxy_edge.event_feed import EventFeed
from galaxy_edge.identity_cache import IdentityCache, lifecycle_subscription
from galaxy_edge.session_cache import SessionCache, revocation_subscription
from galaxy_kit.events import new_envelope, pack
from google.protobuf.timestamp_pb2 import Timestamp
from test_identity_cache import ManualClock, eventually, lifecycle_event, publish

SESSION = "5b0f6d1c-9a3e-4f4b-8c2d-1e2f3a4b5c6d"
OTHER = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
USER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ACTIVE_BODY = b'{"status":"active"}'
ENTRY = (ACTIVE_BODY, USER)


def confirmed_cache(clock: ManualClock, *, ttl: float = 10.0) -> SessionCache:
    cache = SessionCache(max_sessions=10, max_silence_seconds=3.0, ttl_seconds=ttl, clock=clock)
    cache.confirm(clock.now)
    return cache


def test_an_entry_expires_ttl_after_auth_answered_however_often_it_is_read() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock, ttl=10.0)
    cache.remember(SESSION, ENTRY, cache.generation)
    for _ in range(5):
        clock.now += 2.0
        cache.confirm(clock.now)
        assert cache.answer(SESSION) == ACTIVE_BODY  # 2 .. 10 s: still served
    clock.now += 0.5
    cache.confirm(clock.now)
    assert cache.answer(SESSION) is None
    assert len(cache) == 0 and cache.expiries == 1


def test_only_an_active_answer_is_kept() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    cache.keep(SESSION, auth_pb2.DeviceSession(status="revoked"), b"{}", cache.generation)
    assert cache.answer(SESSION) is None
    cache.keep(SESSION, auth_pb2.DeviceSession(status="active", user_id=USER), ACTIVE_BODY,
               cache.generation)
    assert cache.answer(SESSION) == ACTIVE_BODY


def test_a_revocation_this_edge_carried_forgets_what_it_names() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    stranger = "0b6d8f5e-7c1a-4f43-9a51-2f3c4d5e6f70"
    third = str(uuid.uuid4())
    cache.remember(SESSION, ENTRY, cache.generation)
    cache.remember(OTHER, ENTRY, cache.generation)
    cache.remember(third, (ACTIVE_BODY, stranger), cache.generation)
    cache.forget({"device_session_id": SESSION.upper(), "user_id": USER})  # revoke one
    assert cache.answer(SESSION) is None and cache.answer(OTHER) == ACTIVE_BODY
    generation = cache.generation
    cache.forget({"user_id": USER.upper()})  # revoke all of the caller's
    assert cache.answer(OTHER) is None
    assert cache.answer(third) == ACTIVE_BODY  # someone else's stays
    assert cache.generation != generation  # a lookup in flight is not kept


def test_the_key_is_the_canonical_uuid_the_events_carry() -> None:
    assert SessionCache.key_of({"device_session_id": SESSION.upper()}) == SESSION
    assert SessionCache.key_of({"device_session_id": "{" + SESSION + "}"}) == SESSION
    assert SessionCache.key_of({"device_session_id": "not-a-uuid"}) is None
    assert SessionCache.key_of({}) is None


def test_an_answer_older_than_a_revocation_is_not_kept() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    generation = cache.generation
    cache.evict(SESSION)  # the revocation arrives while auth's answer is on its way
    cache.remember(SESSION, ENTRY, generation)
    assert cache.answer(SESSION) is None


# -- one feed, two topics, against the real broker ---------------------------------------------


def revoked_event(device_session_id: str, user_id: str = USER) -> bytes:
    event = DeviceSessionRevoked(
        device_session_id=device_session_id, user_id=user_id, revoked_at=Timestamp(seconds=1)
    )
    return pack(new_envelope(event, "auth"))


async def test_one_feed_evicts_users_and_sessions_from_their_own_topics(
    kafka_bootstrap, unique_topic
) -> None:
    sessions_topic = f"{unique_topic}.sessions"
    users = IdentityCache(max_users=10, max_silence_seconds=3.0)
    sessions = SessionCache(max_sessions=10, max_silence_seconds=3.0, ttl_seconds=60.0)
    feed = EventFeed(
        [lifecycle_subscription(users, unique_topic), revocation_subscription(sessions, sessions_topic)],
        bootstrap_servers=kafka_bootstrap,
    )
    feed.start()
    try:
        await eventually(lambda: users.trusted and sessions.trusted, "trusted")
        users.remember(USER, users.generation)
        sessions.remember(SESSION, ENTRY, sessions.generation)
        sessions.remember(OTHER, ENTRY, sessions.generation)
        await publish(kafka_bootstrap, sessions_topic, revoked_event(SESSION.upper()))
        await eventually(lambda: sessions.answer(SESSION) is None, "session evicted")
        assert sessions.answer(OTHER) == ACTIVE_BODY
        assert users.is_active(USER)  # a session's revocation says nothing about its user
        await publish(kafka_bootstrap, unique_topic, lifecycle_event(USER))
        await eventually(lambda: not users.is_active(USER), "user evicted")
        assert sessions.answer(OTHER) == ACTIVE_BODY
        assert feed.applied == 2

        # A record of the sessions topic that cannot be read empties the session cache only.
        await publish(kafka_bootstrap, sessions_topic, b"not an envelope")
        await eventually(lambda: len(sessions) == 0, "session cache emptied")
        users.remember(USER, users.generation)
        assert users.is_active(USER)
        # ... which is trusted again at the next confirmation.
        await eventually(lambda: sessions.trusted, "session cache trusted again")
    finally:
        await feed.stop()


# -- the route ---------------------------------------------------------------------------------


class SessionsAuthServicerDouble(RecordingAuthServicerDouble):
    """Auth answering InternalSessionsGet from a dict (session id → status); others NOT_FOUND."""

    def __init__(self, statuses: dict[str, str]) -> None:
        super().__init__()
        self.statuses = statuses

    async def InternalSessionsGet(self, request, context):
        self.record("InternalSessionsGet", request)
        status = self.statuses.get(request.device_session_id.lower())
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "device session not found")
        return auth_pb2.DeviceSession(
            device_session_id=request.device_session_id.lower(), user_id=USER, status=status
        )

    async def UserSessionsRevoke(self, request, context):
        """Revokes, and publishes no event: only the edge's own forgetting can show it."""
        self.record("UserSessionsRevoke", request)
        self.statuses[request.device_session_id.lower()] = "revoked"
        return auth_pb2.DeviceSession(
            device_session_id=request.device_session_id.lower(), user_id=USER, status="revoked"
        )

    async def UserSessionsRevokeAll(self, request, context):
        self.record("UserSessionsRevokeAll", request)
        for session_id in self.statuses:
            self.statuses[session_id] = "revoked"
        return auth_pb2.DeviceSessionRevocationSummary(user_id=USER, revoked_count=len(self.statuses))


def lookup(device_session_id: str) -> str:
    return f"/api/v1/internal/sessions/{device_session_id}"


def cached_settings(kafka_bootstrap: str, **more) -> dict:
    return {"session_cache_max_sessions": 100, "kafka_bootstrap_servers": kafka_bootstrap, **more}


async def test_an_active_session_costs_one_lookup_until_its_revocation_arrives(
    kafka_bootstrap,
) -> None:
    auth = SessionsAuthServicerDouble({SESSION: "active"})
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.sessions.trusted, "trusted")
        first = await stack.client.get(lookup(SESSION))
        assert first.status_code == 200 and first.json()["status"] == "active"
        for path in (lookup(SESSION), lookup(SESSION.upper())):
            again = await stack.client.get(path)
            assert again.status_code == 200
            assert again.content == first.content
            assert again.headers["content-type"] == first.headers["content-type"]
        assert len(auth.requests("InternalSessionsGet")) == 1

        auth.statuses[SESSION] = "revoked"
        await publish(kafka_bootstrap, "galaxy.auth.sessions.v1", revoked_event(SESSION))
        await eventually(lambda: len(stack.edge.sessions) == 0, "evicted")
        for _ in range(2):
            revoked = await stack.client.get(lookup(SESSION))
            assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert len(auth.requests("InternalSessionsGet")) == 3  # a revoked answer is never kept


async def test_the_edge_that_carried_a_revocation_answers_revoked_at_once(kafka_bootstrap) -> None:
    """Read your writes: no waiting for auth's event on the edge the revocation went through."""
    auth = SessionsAuthServicerDouble({SESSION: "active", OTHER: "active"})
    caller = {"X-User-ID": USER}
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.sessions.trusted, "trusted")
        for session_id in (SESSION, OTHER):
            for _ in range(2):
                assert (await stack.client.get(lookup(session_id))).json()["status"] == "active"
        assert len(auth.requests("InternalSessionsGet")) == 2
        revoked = await stack.client.post(f"/api/v1/user/sessions/{SESSION}/revoke", headers=caller)
        assert revoked.status_code == 200, revoked.text
        assert (await stack.client.get(lookup(SESSION))).json()["status"] == "revoked"
        assert (await stack.client.get(lookup(OTHER))).json()["status"] == "active"  # still cached
        assert len(auth.requests("InternalSessionsGet")) == 3
        everything = await stack.client.post("/api/v1/user/sessions/revoke-all", headers=caller)
        assert everything.status_code == 200, everything.text
        assert (await stack.client.get(lookup(OTHER))).json()["status"] == "revoked"


async def test_an_unknown_session_is_404_every_time_and_asks_auth_every_time(
    kafka_bootstrap,
) -> None:
    auth = SessionsAuthServicerDouble({})
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.sessions.trusted, "trusted")
        for _ in range(3):
            response = await stack.client.get(lookup(SESSION))
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        malformed = await stack.client.get(lookup("not-a-uuid"))
        assert malformed.status_code == 400
    assert len(auth.requests("InternalSessionsGet")) == 3


async def test_without_a_healthy_feed_every_lookup_asks_auth() -> None:
    auth = SessionsAuthServicerDouble({SESSION: "active"})
    settings = cached_settings("127.0.0.1:1", identity_feed_max_silence_seconds=0.5)
    async with edge_stack(auth=auth, settings=settings) as stack:
        for _ in range(3):
            response = await stack.client.get(lookup(SESSION))
            assert response.status_code == 200 and response.json()["status"] == "active"
        assert len(stack.edge.sessions) == 0
    assert len(auth.requests("InternalSessionsGet")) == 3


async def test_an_expired_entry_asks_auth_again(kafka_bootstrap) -> None:
    auth = SessionsAuthServicerDouble({SESSION: "active"})
    settings = cached_settings(kafka_bootstrap, session_cache_ttl_seconds=3.0)
    async with edge_stack(auth=auth, settings=settings) as stack:
        await eventually(lambda: stack.edge.sessions.trusted, "trusted")
        for _ in range(3):
            assert (await stack.client.get(lookup(SESSION))).status_code == 200
        assert len(auth.requests("InternalSessionsGet")) == 1
        await asyncio.sleep(3.3)
        assert (await stack.client.get(lookup(SESSION))).status_code == 200
        assert len(auth.requests("InternalSessionsGet")) == 2


async def test_the_session_cache_can_be_turned_off(kafka_bootstrap) -> None:
    auth = SessionsAuthServicerDouble({SESSION: "active"})
    settings = cached_settings(kafka_bootstrap, session_cache_max_sessions=0)
    async with edge_stack(auth=auth, settings=settings) as stack:
        assert stack.edge.sessions is None and stack.edge.event_feed is None
        for _ in range(2):
            assert (await stack.client.get(lookup(SESSION))).status_code == 200
    assert len(auth.requests("InternalSessionsGet")) == 2


def test_session_ids_of_events_are_compared_as_uuids() -> None:
    """An event naming the session in another spelling still evicts it."""
    clock = ManualClock()
    cache = confirmed_cache(clock)
    cache.remember(SESSION, ENTRY, cache.generation)
    revocation_subscription(cache).apply(revoked_event(str(uuid.UUID(SESSION)).upper()))
    assert cache.answer(SESSION) is None
