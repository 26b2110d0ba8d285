"""The edge's admin credential cache across replicas: two real edge processes, the real auth
service, the real broker (Tansu) and PostgreSQL.

A repeated admin request is let through on the check an edge remembers
(galaxy_edge.admin_cache); auth's Prometheus counter of `CheckAdminCredentials` shows what
still reaches auth.

* Credentials both edges have verified cost auth one check per edge, then none.
* An administrator disabled through one edge, or whose password is reset through the other,
  is refused (401) by BOTH edges within 1 s: auth publishes `AdminCredentialsChanged` on
  `galaxy.auth.admins.v1` through its outbox and each edge reads every event itself. The
  edges keep a check 60 s here (default 10 s), so only the event can make them refuse
  within the second; the edge that carried the change refuses at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from galaxy_devstack.testing import create_database
from local_processes import LocalProcesses
from suite_helpers import grpc_calls_answered
from test_edge_identity_cache import ADMIN, REFUSAL_SECONDS

pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

CHECK = "/galaxy.auth.v1.AuthService/CheckAdminCredentials"
ADMIN_ACCOUNTS = "/api/v1/admin/admin-accounts"
#: How long each edge keeps a verified check here: far beyond the promise, so a refusal within
#: it can only come from the event.
TTL_SECONDS = 60.0
#: Overlapping probes per edge while waiting for the refusal.
IN_FLIGHT = 8
#: How long a probe loop runs before it gives up (the assertion is REFUSAL_SECONDS).
GIVE_UP_SECONDS = 30.0


@dataclass
class AdminStack:
    auth_metrics_url: str
    edges: list[str]

    def checks(self) -> float:
        """auth's count of CheckAdminCredentials calls answered OK (its Prometheus counter)."""
        return grpc_calls_answered(self.auth_metrics_url, CHECK, "OK")


@pytest.fixture(scope="module")
def admin_stack(postgres_cluster, kafka_broker, tmp_path_factory) -> Iterator[AdminStack]:
    dsn = create_database(postgres_cluster, f"admins_{uuid.uuid4().hex[:12]}")
    bootstrap = kafka_broker.bootstrap_servers
    with LocalProcesses(tmp_path_factory.mktemp("admin-cache")) as local:
        auth = local.service("auth", dsn, bootstrap, {
            "GALAXY_ADMIN_USERNAME": ADMIN[0],
            "GALAXY_ADMIN_PASSWORD": ADMIN[1],
            "GALAXY_ADMIN_BCRYPT_ROUNDS": "4",
            "GALAXY_AUTH_CODE_PEPPER": uuid.uuid4().hex * 2,
            # Admin checks only: no account service, no lifecycle consumer.
            "GALAXY_AUTH_LIFECYCLE_CONSUMER_ENABLED": "false",
        }, metrics=True)
        edges = [
            local.edge(f"edge-{i}", {"auth": auth.target}, bootstrap,
                       {"BACKEND_ADMIN_CACHE_TTL_SECONDS": str(TTL_SECONDS)})
            for i in range(2)
        ]
        local.wait_ready(auth, *edges, following=edges)
        yield AdminStack(auth_metrics_url=auth.metrics_url, edges=[edge.target for edge in edges])


def new_admin(stack: AdminStack) -> tuple[str, str]:
    creds = (f"ops-{uuid.uuid4().hex[:10]}", f"pass-{uuid.uuid4().hex}")
    created = httpx.post(
        f"{stack.edges[0]}{ADMIN_ACCOUNTS}",
        auth=ADMIN,
        json={"username": creds[0], "password": creds[1]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return creds


def list_as(edge: str, creds: tuple[str, str]) -> httpx.Response:
    return httpx.get(f"{edge}{ADMIN_ACCOUNTS}", auth=creds, timeout=30)


def cache_on_both_edges(stack: AdminStack, creds: tuple[str, str]) -> None:
    before = stack.checks()
    for edge in stack.edges:
        for _ in range(3):
            assert list_as(edge, creds).status_code == 200
    assert stack.checks() - before == 2  # one check per edge, then the cache


async def seconds_until_refused(
    client: httpx.AsyncClient, creds: tuple[str, str], since: float
) -> float:
    """How long after `since` the edge first refused the credentials: the START of the earliest
    request answered 401 (overlapping probes every 20 ms, so a slow answer on a loaded machine
    does not delay the next one)."""
    refused_at: list[float] = []

    async def probe() -> None:
        started = time.monotonic()
        response = await client.get(ADMIN_ACCOUNTS, auth=creds)
        if response.status_code != 200:
            assert response.status_code == 401, response.text
            refused_at.append(started)

    probes: set[asyncio.Task[None]] = set()
    while not refused_at and time.monotonic() - since < GIVE_UP_SECONDS:
        if len(probes) < IN_FLIGHT:
            task = asyncio.create_task(probe())
            probes.add(task)
            task.add_done_callback(probes.discard)
        await asyncio.sleep(0.02)
    await asyncio.gather(*probes)
    assert refused_at, f"never refused by {client.base_url}"
    return min(refused_at) - since


async def connected_clients(stack: AdminStack) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=4 * IN_FLIGHT)
    clients = [httpx.AsyncClient(base_url=edge, timeout=30, limits=limits) for edge in stack.edges]
    for client in clients:
        await client.get("/healthz")
    return clients


def test_verified_credentials_cost_auth_one_check_per_edge(admin_stack) -> None:
    creds = new_admin(admin_stack)
    before = admin_stack.checks()
    for edge in admin_stack.edges:
        for _ in range(20):
            assert list_as(edge, creds).status_code == 200
    assert admin_stack.checks() - before == 2


async def test_a_disable_through_one_edge_is_refused_by_both_within_a_second(admin_stack):
    creds = await asyncio.to_thread(new_admin, admin_stack)
    await asyncio.to_thread(cache_on_both_edges, admin_stack, creds)
    clients = await connected_clients(admin_stack)
    try:
        disabled = await clients[0].post(f"{ADMIN_ACCOUNTS}/{creds[0]}/disable", auth=ADMIN)
        since = time.monotonic()
        assert disabled.status_code == 200, disabled.text
        # The edge that carried the disable refuses at once.
        assert (await clients[0].get(ADMIN_ACCOUNTS, auth=creds)).status_code == 401
        delays = await asyncio.gather(*(
            seconds_until_refused(client, creds, since) for client in clients
        ))
    finally:
        for client in clients:
            await client.aclose()
    print(f"disabled admin refused by the two edges after {[round(d, 3) for d in delays]} s")
    assert max(delays) <= REFUSAL_SECONDS, delays


async def test_a_password_reset_through_one_edge_refuses_the_old_one_on_both_within_a_second(
    admin_stack,
):
    creds = await asyncio.to_thread(new_admin, admin_stack)
    await asyncio.to_thread(cache_on_both_edges, admin_stack, creds)
    new_password = f"renewed-{uuid.uuid4().hex}"
    clients = await connected_clients(admin_stack)
    try:
        reset = await clients[1].post(
            f"{ADMIN_ACCOUNTS}/{creds[0]}/reset-password", auth=ADMIN,
            json={"password": new_password},
        )
        since = time.monotonic()
        assert reset.status_code == 200, reset.text
        delays = await asyncio.gather(*(
            seconds_until_refused(client, creds, since) for client in clients
        ))
        for client in clients:
            renewed = await client.get(ADMIN_ACCOUNTS, auth=(creds[0], new_password))
            assert renewed.status_code == 200, renewed.text
    finally:
        for client in clients:
            await client.aclose()
    print(f"old password refused by the two edges after {[round(d, 3) for d in delays]} s")
    assert max(delays) <= REFUSAL_SECONDS, delays
