"""The admin credential cache: a repeated admin request costs auth no check RPC, until the
administrator is disabled or their password reset, the entry expires, or the feed cannot be
trusted.

The cache rules run against an injected clock; the feed runs against the session's real
Kafka-protocol broker (Tansu); the gate runs in the edge app against a real grpc.aio auth
double. The two-edge test with the real auth service is tests/suite/test_edge_admin_cache.py.
"""

from __future__ import annotations

import asyncio
import base64

import grpc
import pytest
from edge_doubles import RecordingAuthServicerDouble, edge_stack
from galaxy.auth.v1 import auth_pb2
from galaxy.events.v1.auth_pb2 import AdminCredentialsChanged
from galaxy_edge.admin_cache import ADMINS_TOPIC, AdminCredentialCache, admin_subscription
from galaxy_kit.events import MalformedEvent, new_envelope, pack
from test_identity_cache import ManualClock, eventually, publish

ADMIN_ACCOUNTS = "/api/v1/admin/admin-accounts"
ROOT = ("root", "s3cret-pass")
OPS = ("ops-ann", "another-s3cret")
TTL_SECONDS = 10.0


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def confirmed_cache(clock: ManualClock, *, ttl: float = TTL_SECONDS) -> AdminCredentialCache:
    cache = AdminCredentialCache(
        max_credentials=10, max_silence_seconds=3.0, ttl_seconds=ttl, clock=clock
    )
    cache.confirm(clock.now)
    return cache


def changed_event(username: str, change: str = "disabled") -> bytes:
    return pack(new_envelope(AdminCredentialsChanged(username=username, change=change), "auth"))


def test_the_key_is_a_digest_under_a_key_of_this_process_never_the_credentials() -> None:
    clock = ManualClock()
    cache, other_process = confirmed_cache(clock), confirmed_cache(clock)
    header = basic(*ROOT)
    key = cache.key_of(header)
    assert key == cache.key_of(header)
    assert key != other_process.key_of(header)  # the digest key never leaves the process
    assert key != cache.key_of(basic(ROOT[0], ROOT[1] + "x"))
    for secret in (ROOT[1], header, header.split()[1]):
        assert secret not in key
    cache.keep(key, ROOT[0], cache.generation)
    assert cache.username(key) == ROOT[0]
    assert all(ROOT[1] not in repr(item) for item in cache._entries.items())


def test_a_remembered_check_expires_ttl_after_auth_answered_however_often_it_is_used() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    key = cache.key_of(basic(*ROOT))
    cache.keep(key, ROOT[0], cache.generation)
    for _ in range(5):
        clock.now += 2.0
        cache.confirm(clock.now)
        assert cache.username(key) == ROOT[0]
    clock.now += 0.5
    cache.confirm(clock.now)
    assert cache.username(key) is None


def test_an_event_forgets_every_credential_of_its_administrator_and_only_those() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    old, new, ops = (cache.key_of(basic(*creds)) for creds in (ROOT, ("root", "new-pass"), OPS))
    for key, username in ((old, "root"), (new, "root"), (ops, OPS[0])):
        cache.keep(key, username, cache.generation)
    admin_subscription(cache).apply(changed_event("root", "password_reset"))
    assert cache.username(old) is None and cache.username(new) is None
    assert cache.username(ops) == OPS[0]


def test_a_check_answered_before_an_event_arrived_is_not_kept() -> None:
    clock = ManualClock()
    cache = confirmed_cache(clock)
    key = cache.key_of(basic(*ROOT))
    generation = cache.generation  # auth's check starts ...
    admin_subscription(cache).apply(changed_event("root"))  # ... the disable arrives ...
    cache.keep(key, ROOT[0], generation)  # ... auth's (older) answer is dropped
    assert cache.username(key) is None


def test_an_event_without_a_username_is_malformed() -> None:
    cache = confirmed_cache(ManualClock())
    with pytest.raises(MalformedEvent):
        admin_subscription(cache).apply(changed_event(""))


# -- the gate, in the edge app -----------------------------------------------------------------


class AdminsAuthServicerDouble(RecordingAuthServicerDouble):
    """Auth with two administrators whose passwords and status tests change; the disable and the
    reset change them and publish no event, so only the edge's own forgetting can show them."""

    def __init__(self) -> None:
        super().__init__()
        self.passwords = dict([ROOT, OPS])
        self.disabled: set[str] = set()

    async def CheckAdminCredentials(self, request, context):
        self.record("CheckAdminCredentials", request)
        if (
            self.passwords.get(request.username) != request.password
            or request.username in self.disabled
        ):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid admin credentials")
        return auth_pb2.AdminPrincipal(username=request.username)

    async def AdminAdminAccountsDisable(self, request, context):
        self.record("AdminAdminAccountsDisable", request)
        self.disabled.add(request.username)
        return auth_pb2.AdminAccount(username=request.username)

    async def AdminAdminAccountsResetPassword(self, request, context):
        self.record("AdminAdminAccountsResetPassword", request)
        self.passwords[request.username] = request.body.password
        return auth_pb2.AdminAccount(username=request.username)

    def checks(self) -> int:
        return len(self.requests("CheckAdminCredentials"))


def cached_settings(kafka_bootstrap: str, **more) -> dict:
    return {"admin_cache_max_credentials": 100, "kafka_bootstrap_servers": kafka_bootstrap, **more}


async def list_as(client, creds: tuple[str, str]) -> int:
    return (await client.get(ADMIN_ACCOUNTS, headers={"Authorization": basic(*creds)})).status_code


async def test_a_repeated_admin_request_costs_one_check_until_the_disable_arrives(
    kafka_bootstrap,
) -> None:
    auth = AdminsAuthServicerDouble()
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.admins.trusted, "trusted")
        for _ in range(5):
            assert await list_as(stack.client, ROOT) == 200
        assert auth.checks() == 1
        listed = auth.requests("AdminAdminAccountsList")
        assert len(listed) == 5 and {r.admin_username for r in listed} == {"root"}

        auth.disabled.add("root")  # auth's disable commits, then its event reaches the edge
        await publish(kafka_bootstrap, ADMINS_TOPIC, changed_event("root"))
        await eventually(lambda: len(stack.edge.admins) == 0, "forgotten")
        for _ in range(2):
            assert await list_as(stack.client, ROOT) == 401
    assert auth.checks() == 3  # a refused check is never remembered
    assert len(auth.requests("AdminAdminAccountsList")) == 5


async def test_wrong_passwords_all_reach_auth_and_its_throttle(kafka_bootstrap) -> None:
    auth = AdminsAuthServicerDouble()
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.admins.trusted, "trusted")
        assert await list_as(stack.client, ROOT) == 200
        for _ in range(3):
            assert await list_as(stack.client, (ROOT[0], "guess")) == 401
        malformed = await stack.client.get(ADMIN_ACCOUNTS, headers={"Authorization": "Basic !!"})
        assert malformed.status_code == 401
    assert auth.checks() == 4


async def test_the_edge_that_carried_a_disable_or_a_reset_refuses_at_once(kafka_bootstrap) -> None:
    """No waiting for auth's event on the edge the change went through."""
    auth = AdminsAuthServicerDouble()
    async with edge_stack(auth=auth, settings=cached_settings(kafka_bootstrap)) as stack:
        await eventually(lambda: stack.edge.admins.trusted, "trusted")
        assert await list_as(stack.client, ROOT) == 200
        assert await list_as(stack.client, OPS) == 200
        disabled = await stack.client.post(
            f"{ADMIN_ACCOUNTS}/{OPS[0]}/disable", headers={"Authorization": basic(*ROOT)}
        )
        assert disabled.status_code == 200, disabled.text
        assert await list_as(stack.client, OPS) == 401

        reset = await stack.client.post(
            f"{ADMIN_ACCOUNTS}/{ROOT[0]}/reset-password",
            headers={"Authorization": basic(*ROOT)},
            json={"password": "a brand new pass phrase"},
        )
        assert reset.status_code == 200, reset.text
        assert await list_as(stack.client, ROOT) == 401
        assert await list_as(stack.client, (ROOT[0], "a brand new pass phrase")) == 200


async def test_without_a_healthy_feed_every_admin_request_asks_auth() -> None:
    auth = AdminsAuthServicerDouble()
    settings = cached_settings("127.0.0.1:1", identity_feed_max_silence_seconds=0.5)
    async with edge_stack(auth=auth, settings=settings) as stack:
        for _ in range(3):
            assert await list_as(stack.client, ROOT) == 200
        assert len(stack.edge.admins) == 0
    assert auth.checks() == 3


async def test_an_expired_check_asks_auth_again(kafka_bootstrap) -> None:
    auth = AdminsAuthServicerDouble()
    settings = cached_settings(kafka_bootstrap, admin_cache_ttl_seconds=3.0)
    async with edge_stack(auth=auth, settings=settings) as stack:
        await eventually(lambda: stack.edge.admins.trusted, "trusted")
        for _ in range(3):
            assert await list_as(stack.client, ROOT) == 200
        assert auth.checks() == 1
        await asyncio.sleep(3.3)
        assert await list_as(stack.client, ROOT) == 200
        assert auth.checks() == 2


async def test_the_admin_cache_can_be_turned_off(kafka_bootstrap) -> None:
    auth = AdminsAuthServicerDouble()
    settings = cached_settings(kafka_bootstrap, admin_cache_max_credentials=0)
    async with edge_stack(auth=auth, settings=settings) as stack:
        assert stack.edge.admins is None and stack.edge.event_feed is None
        for _ in range(2):
            assert await list_as(stack.client, ROOT) == 200
    assert auth.checks() == 2
