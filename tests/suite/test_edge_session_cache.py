"""The edge's session cache across replicas: two real edge processes, the real auth and
account services, the real broker (Tansu) and PostgreSQL.

`GET /api/v1/internal/sessions/{id}` (the gateway's lookup on every request) is answered
from each edge's cache for an active session; auth's Prometheus counter of
`InternalSessionsGet` shows what still reaches auth.

* A session both edges have cached, then revoked through the user's revoke route on one
  edge, or by the user deleting their account through the other edge (account's lifecycle
  event → auth's cascade → auth's `DeviceSessionRevoked` events), is answered `revoked` by
  BOTH edges within 1 s: each edge reads every `galaxy.auth.sessions.v1` event itself.
* An unknown session is 404 every time, and every time asks auth.
* Without a healthy feed (an edge whose broker address is dead) every lookup asks auth,
  and its answers are right.
* An entry expires after the edge's TTL: auth is asked again and moves last_seen_at
  (on a third edge with a TTL of 2 s, auth's resolution here 3 s; the two edges above keep
  entries 60 s, so only an event can make them answer `revoked` within the second).

Sessions are written into auth's table directly: sign-in has its own tests, and these
need many sessions fast on a loaded machine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import grpc
import httpx
import pytest
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_devstack.testing import create_database
from local_processes import NO_BROKER, LocalProcesses
from suite_helpers import grpc_calls_answered
from test_edge_identity_cache import ADMIN, REFUSAL_SECONDS, new_user

pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

LOOKUP = "/galaxy.auth.v1.AuthService/InternalSessionsGet"
#: Cache TTLs of the two edges and of the short-lived edge, and auth's last_seen_at resolution
#: in this stack (defaults: 10 s, 60 s).
TTL_SECONDS = 60.0
SHORT_TTL_SECONDS = 2.0
LAST_SEEN_RESOLUTION_SECONDS = 3.0
#: Overlapping probes per edge while waiting for a revocation.
IN_FLIGHT = 8
#: Account's lifecycle event reaching auth's fresh consumer group, once, on a loaded machine.
WARM_UP_SECONDS = 180.0


@dataclass
class SessionStack:
    dsn: str
    account_target: str
    auth_metrics_url: str
    edges: list[str]
    blind_edge: str
    short_ttl_edge: str

    def lookups(self, code: str = "OK") -> float:
        """auth's count of InternalSessionsGet calls answered with `code` (its Prometheus counter)."""
        return grpc_calls_answered(self.auth_metrics_url, LOOKUP, code)


async def _execute(dsn: str, sql: str, *params) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *params)
    finally:
        await conn.close()


def new_session(dsn: str, user_id: str) -> str:
    """An active device session of the user, as a sign-in leaves it (no last_seen_at yet)."""
    session_id = uuid.uuid4()
    asyncio.run(_execute(
        dsn,
        "INSERT INTO auth.device_sessions"
        " (device_session_id, user_id, client_public_key, time_zone, challenge_id)"
        " VALUES ($1, $2, 'key', 'UTC', $3)",
        session_id, uuid.UUID(user_id), uuid.uuid4(),
    ))
    return str(session_id)


def stored_status(dsn: str, session_id: str) -> str:
    [row] = asyncio.run(_execute(
        dsn, "SELECT status FROM auth.device_sessions WHERE device_session_id = $1",
        uuid.UUID(session_id),
    ))
    return row["status"]


def lookup(edge: str, session_id: str) -> httpx.Response:
    return httpx.get(f"{edge}/api/v1/internal/sessions/{session_id}", timeout=10)


def delete_account(stack: SessionStack, user_id: str) -> None:
    with grpc.insecure_channel(stack.account_target) as channel:
        account_pb2_grpc.AccountServiceStub(channel).AdminUsersSoftDelete(
            account_pb2.AdminUsersSoftDeleteRequest(admin_username=ADMIN[0], user_id=user_id),
            timeout=10,
        )


@pytest.fixture(scope="module")
def session_stack(postgres_cluster, kafka_broker, tmp_path_factory) -> Iterator[SessionStack]:
    dsn = create_database(postgres_cluster, f"sessions_{uuid.uuid4().hex[:12]}")
    bootstrap = kafka_broker.bootstrap_servers
    with LocalProcesses(tmp_path_factory.mktemp("session-cache")) as local:
        account = local.service("account", dsn, bootstrap)
        auth = local.service("auth", dsn, bootstrap, {
            "GALAXY_ACCOUNT_GRPC_TARGET": account.target,
            "GALAXY_ADMIN_USERNAME": ADMIN[0],
            "GALAXY_ADMIN_PASSWORD": ADMIN[1],
            "GALAXY_AUTH_CODE_PEPPER": uuid.uuid4().hex * 2,
            "GALAXY_AUTH_SESSION_LAST_SEEN_RESOLUTION_SECONDS": str(LAST_SEEN_RESOLUTION_SECONDS),
            # Its own group: other tests' auth processes on this broker read other databases.
            "GALAXY_AUTH_LIFECYCLE_CONSUMER_GROUP": f"auth.account-lifecycle.{uuid.uuid4().hex[:8]}",
            "GALAXY_AUTH_LIFECYCLE_SESSION_TIMEOUT_MS": "3000",
        }, metrics=True)
        targets = {"account": account.target, "auth": auth.target}
        cache_env = {"BACKEND_SESSION_CACHE_TTL_SECONDS": str(TTL_SECONDS)}
        edges = [local.edge(f"edge-{i}", targets, bootstrap, cache_env) for i in range(2)]
        blind = local.edge("edge-blind", targets, NO_BROKER, cache_env)
        short = local.edge("edge-short-ttl", targets, bootstrap,
                           {"BACKEND_SESSION_CACHE_TTL_SECONDS": str(SHORT_TTL_SECONDS)})
        local.wait_ready(account, auth, *edges, blind, short, following=[*edges, short])
        stack = SessionStack(
            dsn=dsn,
            account_target=account.target,
            auth_metrics_url=auth.metrics_url,
            edges=[edge.target for edge in edges],
            blind_edge=blind.target,
            short_ttl_edge=short.target,
        )
        # Warm-up: auth's fresh consumer group has joined and applies lifecycle events, so
        # the deletion test times the cascade, not the group's first join.
        warm_user = new_user(stack)
        warm_session = new_session(dsn, warm_user)
        delete_account(stack, warm_user)
        deadline = time.monotonic() + WARM_UP_SECONDS
        while stored_status(dsn, warm_session) != "revoked":
            assert time.monotonic() < deadline, f"auth never applied a deletion:\n{auth.log()[-3000:]}"
            time.sleep(0.2)
        yield stack


def cache_on_both_edges(stack: SessionStack, *session_ids: str) -> None:
    before = stack.lookups()
    for edge in stack.edges:
        for session_id in session_ids:
            for _ in range(3):
                response = lookup(edge, session_id)
                assert response.status_code == 200 and response.json()["status"] == "active"
    assert stack.lookups() - before == 2 * len(session_ids)  # one per edge, then the cache


async def seconds_until_all_revoked(
    client: httpx.AsyncClient, session_ids: list[str], since: float
) -> float:
    """How long after `since` one edge answered every session `revoked`: the latest, over the
    sessions, of the earliest START of a lookup that said so (overlapping probes every 20 ms,
    so a slow answer on a loaded machine does not delay the next one)."""
    revoked_at: dict[str, float] = {}

    async def probe(session_id: str) -> None:
        started = time.monotonic()
        response = await client.get(f"/api/v1/internal/sessions/{session_id}")
        assert response.status_code == 200, response.text
        if response.json()["status"] == "revoked":
            revoked_at[session_id] = min(revoked_at.get(session_id, started), started)

    probes: set[asyncio.Task[None]] = set()
    while len(revoked_at) < len(session_ids) and time.monotonic() - since < 30:
        for session_id in session_ids:
            if session_id not in revoked_at and len(probes) < IN_FLIGHT:
                task = asyncio.create_task(probe(session_id))
                probes.add(task)
                task.add_done_callback(probes.discard)
        await asyncio.sleep(0.02)
    await asyncio.gather(*probes)
    assert set(revoked_at) == set(session_ids), f"never revoked by {client.base_url}"
    return max(revoked_at.values()) - since


async def connected_clients(stack: SessionStack) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=4 * IN_FLIGHT)
    clients = [httpx.AsyncClient(base_url=edge, timeout=30, limits=limits) for edge in stack.edges]
    for client in clients:
        await client.get("/healthz")
    return clients


def test_an_active_session_costs_auth_one_lookup_per_edge(session_stack) -> None:
    session_id = new_session(session_stack.dsn, new_user(session_stack))
    before = session_stack.lookups()
    for edge in session_stack.edges:
        for _ in range(20):
            assert lookup(edge, session_id).json()["status"] == "active"
    assert session_stack.lookups() - before == 2


async def test_a_revocation_through_one_edge_is_seen_by_both_within_a_second(session_stack):
    user_id = new_user(session_stack)
    session_id = await asyncio.to_thread(new_session, session_stack.dsn, user_id)
    cache_on_both_edges(session_stack, session_id)
    clients = await connected_clients(session_stack)
    try:
        revoked = await clients[0].post(
            f"/api/v1/user/sessions/{session_id}/revoke", headers={"X-User-ID": user_id}
        )
        since = time.monotonic()
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"
        delays = await asyncio.gather(*(
            seconds_until_all_revoked(client, [session_id], since) for client in clients
        ))
    finally:
        for client in clients:
            await client.aclose()
    print(f"revoked on the two edges after {[round(d, 3) for d in delays]} s")
    assert max(delays) <= REFUSAL_SECONDS, delays


async def test_an_account_deletion_revokes_the_cached_sessions_on_both_edges_within_a_second(
    session_stack,
):
    user_id = new_user(session_stack)
    sessions = [await asyncio.to_thread(new_session, session_stack.dsn, user_id) for _ in range(2)]
    cache_on_both_edges(session_stack, *sessions)
    clients = await connected_clients(session_stack)
    try:
        deleted = await clients[1].post(
            "/api/v1/user/account/delete", headers={"X-User-ID": user_id}
        )
        since = time.monotonic()
        assert deleted.status_code == 204, deleted.text
        delays = await asyncio.gather(*(
            seconds_until_all_revoked(client, sessions, since) for client in clients
        ))
    finally:
        for client in clients:
            await client.aclose()
    print(f"deletion: sessions revoked on the two edges after {[round(d, 3) for d in delays]} s")
    assert max(delays) <= REFUSAL_SECONDS, delays


def test_an_unknown_session_is_404_every_time(session_stack) -> None:
    unknown = str(uuid.uuid4())
    before = session_stack.lookups("NOT_FOUND")
    for edge in session_stack.edges:
        for _ in range(3):
            response = lookup(edge, unknown)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
    assert session_stack.lookups("NOT_FOUND") - before == 6


def test_an_edge_without_its_feed_asks_auth_every_time_and_answers_right(session_stack) -> None:
    user_id = new_user(session_stack)
    session_id = new_session(session_stack.dsn, user_id)
    before = session_stack.lookups()
    for _ in range(5):
        assert lookup(session_stack.blind_edge, session_id).json()["status"] == "active"
    assert session_stack.lookups() - before == 5
    revoked = httpx.post(
        f"{session_stack.blind_edge}/api/v1/user/sessions/{session_id}/revoke",
        headers={"X-User-ID": user_id},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text
    assert lookup(session_stack.blind_edge, session_id).json()["status"] == "revoked"


def test_an_expired_entry_reaches_auth_which_moves_last_seen_at(session_stack) -> None:
    """The cached answer shows last_seen_at as auth last wrote it; after the TTL the edge asks
    auth again, which writes it anew once the resolution has passed."""
    session_id = new_session(session_stack.dsn, new_user(session_stack))
    edge = session_stack.short_ttl_edge
    first = lookup(edge, session_id).json()
    assert first["status"] == "active" and first["last_seen_at"]  # the first lookup writes it
    seen = {first["last_seen_at"]}
    deadline = time.monotonic() + 60
    while len(seen) < 2:
        assert time.monotonic() < deadline, f"last_seen_at never moved: {seen}"
        time.sleep(0.2)
        seen.add(lookup(edge, session_id).json()["last_seen_at"])
    earlier, later = sorted(seen, key=datetime.fromisoformat)
    moved = (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()
    assert moved >= LAST_SEEN_RESOLUTION_SECONDS
    # ... and no later than the resolution plus the TTL plus a generous margin for the machine.
    assert moved <= LAST_SEEN_RESOLUTION_SECONDS + SHORT_TTL_SECONDS + 20
