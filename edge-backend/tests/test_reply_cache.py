"""The reply cache: a user read a service lets the edge keep costs one RPC, then none until the
service's change event names the user, a write goes through this edge, the service's deadline
passes, or the feed cannot be trusted.

The rules run against an injected clock; the route runs in the edge app against a real grpc.aio
account double and the session's real Kafka-protocol broker (Tansu). The two-edge test with the
real account service is tests/suite/test_edge_reply_cache.py.
"""

from __future__ import annotations

import asyncio

from edge_doubles import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    RecordingAccountServicerDouble,
    RecordingAuthServicerDouble,
    edge_stack,
)
from galaxy.account.v1 import account_pb2
from galaxy.events.v1.account_pb2 import AccountChanged
from galaxy_edge.reply_cache import CHANGE_TOPICS, ReplyCache
from galaxy_kit.caching import cacheable_metadata
from galaxy_kit.events import new_envelope, pack
from test_admin_cache import basic
from test_identity_cache import ManualClock, eventually, publish

USER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OTHER = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
READ = "userAccountGet"
BODY = b'{"account":{}}'
ACCOUNT = "/api/v1/user/account"
CHANGES_TOPIC = CHANGE_TOPICS["account"]


def confirmed_cache(clock: ManualClock, *, max_seconds: float = 60.0, max_users: int = 10) -> ReplyCache:
    cache = ReplyCache(max_users=max_users, max_silence_seconds=3.0, max_seconds=max_seconds, clock=clock)
    cache.confirm(clock.now)
    return cache


def keep(cache: ReplyCache, user: str = USER, *, seconds: float | None = 30.0, body: bytes = BODY,
         started_at: float | None = None, generation: int | None = None, operation: str = READ) -> None:
    cache.keep(
        user, operation, body, cacheable_seconds=seconds,
        started_at=cache.now() if started_at is None else started_at,
        generation=cache.generation if generation is None else generation,
    )


# -- the rules, with an injected clock ---------------------------------------------------------


def test_a_reply_is_served_until_the_services_deadline_counted_from_the_call() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    started = clock.now
    clock.now += 0.2  # the call took 200 ms: the deadline still counts from its start
    keep(cache, seconds=10.0, started_at=started)
    clock.now = started + 9.9
    cache.confirm(clock.now)
    assert cache.answer(USER, READ) == BODY
    clock.now = started + 10.0
    cache.confirm(clock.now)
    assert cache.answer(USER, READ) is None


def test_the_edges_own_bound_caps_the_services() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock, max_seconds=5.0)
    keep(cache, seconds=60.0)
    clock.now += 4.9
    cache.confirm(clock.now)
    assert cache.answer(USER, READ) == BODY
    clock.now += 0.2
    cache.confirm(clock.now)
    assert cache.answer(USER, READ) is None


def test_a_reply_the_service_did_not_let_go_is_never_kept() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    keep(cache, seconds=None)
    keep(cache, seconds=0.0)
    assert cache.answer(USER, READ) is None and len(cache) == 0


def test_a_change_of_the_user_forgets_every_reply_of_that_user_only() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    keep(cache, USER)
    keep(cache, USER, operation="another read", body=b"{}")
    keep(cache, OTHER)
    cache.evict(USER)  # what the feed does with an AccountChanged naming USER
    assert cache.answer(USER, READ) is None and cache.answer(USER, "another read") is None
    assert cache.answer(OTHER, READ) == BODY


def test_a_reply_older_than_a_change_is_not_kept() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    generation = cache.generation  # the read began
    cache.evict(USER)  # a change arrived while it was in flight
    keep(cache, generation=generation)
    assert cache.answer(USER, READ) is None


def test_a_write_through_this_edge_forgets_its_user_whatever_the_case_of_the_id() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    keep(cache, USER)
    generation = cache.generation
    cache.forget_user(USER.upper())
    assert cache.answer(USER, READ) is None
    assert cache.generation != generation  # a read in flight is not kept
    cache.forget_user(None)  # nothing named: nothing to do


def test_an_unconfirmed_cache_answers_nothing_and_forgets_what_it_knew() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    keep(cache, seconds=60.0)
    clock.now += 3.1  # no confirmation for longer than max_silence_seconds
    assert cache.answer(USER, READ) is None
    assert len(cache) == 0
    cache.confirm(clock.now)
    assert cache.answer(USER, READ) is None  # nothing learnt before the gap comes back


def test_the_cache_is_bounded_by_users() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock, max_users=2)
    for user in ("a", "b", "c"):
        keep(cache, user)
    assert len(cache) == 2 and cache.answer("a", READ) is None and cache.answer("c", READ) == BODY


# -- the route, against an account double and the real broker -----------------------------------


class CacheableAccountDouble(RecordingAccountServicerDouble):
    """Account double whose user read says it may be kept for `cacheable_seconds` (None: not)."""

    def __init__(self, cacheable_seconds: float | None = 30.0) -> None:
        super().__init__()
        self.cacheable_seconds = cacheable_seconds
        self.display_name = "first"

    async def UserAccountGet(self, request, context):
        self.record("UserAccountGet", request)
        if self.cacheable_seconds is not None:
            context.set_trailing_metadata(cacheable_metadata(self.cacheable_seconds))
        account = account_pb2.Account(user_id=request.user_id, display_name=self.display_name)
        return account_pb2.AccountResponse(account=account)

    async def AdminUsersGet(self, request, context):
        self.record("AdminUsersGet", request)
        return account_pb2.AccountResponse(account=account_pb2.Account(user_id=request.user_id))

    async def UserAccountUpdateProfile(self, request, context):
        self.record("UserAccountUpdateProfile", request)
        self.display_name = request.body.display_name
        account = account_pb2.Account(user_id=request.user_id, display_name=self.display_name)
        return account_pb2.AccountResponse(account=account)


def cached_settings(kafka_bootstrap: str, **more) -> dict:
    return {
        "reply_cache_max_users": 100,
        "identity_cache_max_users": 100,
        "kafka_bootstrap_servers": kafka_bootstrap,
        **more,
    }


def changed_event(user_id: str) -> bytes:
    return pack(new_envelope(AccountChanged(user_id=user_id), "account"))


async def display_name(client, user_id: str = USER) -> str:
    response = await client.get(ACCOUNT, headers={"X-User-ID": user_id})
    assert response.status_code == 200, response.text
    return response.json()["account"]["display_name"]


async def test_a_repeated_read_costs_one_call_until_the_change_event_arrives(kafka_bootstrap) -> None:
    account = CacheableAccountDouble()
    async with edge_stack(account=account, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        for _ in range(5):
            assert await display_name(stack.client) == "first"
        assert len(account.requests("UserAccountGet")) == 1
        assert await display_name(stack.client, OTHER) == "first"  # another user: its own call
        assert len(account.requests("UserAccountGet")) == 2

        account.display_name = "changed elsewhere"  # a write through another edge commits...
        await publish(kafka_bootstrap, CHANGES_TOPIC, changed_event(USER))  # ...its event arrives
        await eventually(lambda: stack.edge.replies.answer(USER, READ) is None, "forgotten")
        assert await display_name(stack.client) == "changed elsewhere"
        assert await display_name(stack.client, OTHER) == "first"  # still kept (stale on purpose)
        assert len(account.requests("UserAccountGet")) == 3


async def test_a_write_through_this_edge_is_read_back_at_once(kafka_bootstrap) -> None:
    account = CacheableAccountDouble()
    async with edge_stack(account=account, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        assert await display_name(stack.client) == "first"
        patched = await stack.client.patch(
            f"{ACCOUNT}/profile", headers={"X-User-ID": USER}, json={"display_name": "second"}
        )
        assert patched.status_code == 200, patched.text
        assert await display_name(stack.client) == "second"  # no event published here
    assert len(account.requests("UserAccountGet")) == 2


async def test_an_administrators_read_of_the_user_forgets_nothing(kafka_bootstrap) -> None:
    account = CacheableAccountDouble()
    async with edge_stack(account=account, auth=RecordingAuthServicerDouble(),
                          settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        assert await display_name(stack.client) == "first"
        admin_read = await stack.client.get(
            f"/api/v1/admin/users/{USER}", headers={"Authorization": basic(ADMIN_USER, ADMIN_PASSWORD)}
        )
        assert admin_read.status_code == 200, admin_read.text
        assert await display_name(stack.client) == "first"
    assert len(account.requests("UserAccountGet")) == 1


async def test_a_reply_without_the_services_leave_is_never_kept(kafka_bootstrap) -> None:
    account = CacheableAccountDouble(cacheable_seconds=None)
    async with edge_stack(account=account, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        for _ in range(3):
            assert await display_name(stack.client) == "first"
    assert len(account.requests("UserAccountGet")) == 3


async def test_a_reply_is_asked_again_once_the_services_deadline_passed(kafka_bootstrap) -> None:
    account = CacheableAccountDouble(cacheable_seconds=2.0)
    async with edge_stack(account=account, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        assert await display_name(stack.client) == "first"
        assert await display_name(stack.client) == "first"
        assert len(account.requests("UserAccountGet")) == 1
        await asyncio.sleep(2.2)
        assert await display_name(stack.client) == "first"
    assert len(account.requests("UserAccountGet")) == 2


async def test_a_refused_user_gets_no_kept_reply(kafka_bootstrap) -> None:
    """The identity gate runs before the cache: a blocked user's kept reply is not served."""
    account = CacheableAccountDouble()
    async with edge_stack(account=account, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.replies.trusted, "trusted")
        assert await display_name(stack.client) == "first"
        account.statuses[USER] = "blocked"
        stack.edge.gate.forget(USER)  # as the lifecycle event would
        refused = await stack.client.get(ACCOUNT, headers={"X-User-ID": USER})
        assert refused.status_code == 400
    assert len(account.requests("UserAccountGet")) == 1


async def test_without_a_healthy_feed_every_read_asks_account() -> None:
    account = CacheableAccountDouble()
    settings = cached_settings("127.0.0.1:1", identity_feed_max_silence_seconds=0.5)
    async with edge_stack(account=account, settings=settings) as stack:
        for _ in range(3):
            assert await display_name(stack.client) == "first"
        assert len(stack.edge.replies) == 0
    assert len(account.requests("UserAccountGet")) == 3


async def test_the_reply_cache_can_be_turned_off(kafka_bootstrap) -> None:
    account = CacheableAccountDouble()
    settings = cached_settings(kafka_bootstrap, reply_cache_max_users=0, identity_cache_max_users=0)
    async with edge_stack(account=account, settings=settings) as stack:
        assert stack.edge.replies is None and stack.edge.event_feed is None
        for _ in range(2):
            assert await display_name(stack.client) == "first"
    assert len(account.requests("UserAccountGet")) == 2
