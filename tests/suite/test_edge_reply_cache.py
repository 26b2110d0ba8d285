"""The edge's reply cache across replicas: two real edge processes, the real account and auth
services, the real broker (Tansu) and PostgreSQL.

`GET /api/v1/user/account` is answered from the edge's reply cache (galaxy_edge.reply_cache)
while account's trailing metadata lets it; account's Prometheus counter of `UserAccountGet`
shows what still reaches account.

* A read both edges have answered costs account one call per edge, then none.
* Every kind of write that changes the answer — profile, settings, declared country (geo's
  path, straight to account), entitlement, limit, sanction, deletion — made through one edge
  (or none) is read fresh through the OTHER edge within 1 s: account publishes
  `AccountChanged` on `galaxy.account.changes.v1` through its outbox in the write's
  transaction and each edge reads every event itself. The edge that carried the write reads
  it back at once.
* A change with no write (a paid grant that ends) is never served late: account's metadata
  bounds the kept reply by it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_devstack.testing import create_database
from local_processes import LocalProcesses
from suite_helpers import grpc_calls_answered
from test_edge_identity_cache import ADMIN

pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

#: The promise: a write is read fresh through every edge within this.
FRESH_SECONDS = 1.0
#: How long a probe loop runs before it gives up (the assertion is FRESH_SECONDS).
GIVE_UP_SECONDS = 30.0
ACCOUNT = "/api/v1/user/account"
GET = "/galaxy.account.v1.AccountService/UserAccountGet"
ACTOR = {"type": "admin", "id": "ops"}


@dataclass
class ReplyStack:
    account_target: str
    metrics_url: str
    edges: list[str]

    def reads(self) -> float:
        """account's count of UserAccountGet calls answered OK (its Prometheus counter)."""
        return grpc_calls_answered(self.metrics_url, GET, "OK")

    def account(self) -> account_pb2_grpc.AccountServiceStub:
        return account_pb2_grpc.AccountServiceStub(grpc.insecure_channel(self.account_target))


@pytest.fixture(scope="module")
def reply_stack(postgres_cluster, kafka_broker, tmp_path_factory) -> Iterator[ReplyStack]:
    dsn = create_database(postgres_cluster, f"replies_{uuid.uuid4().hex[:12]}")
    bootstrap = kafka_broker.bootstrap_servers
    with LocalProcesses(tmp_path_factory.mktemp("reply-cache")) as local:
        account = local.service("account", dsn, bootstrap, metrics=True)
        auth = local.service("auth", dsn, bootstrap, {
            "GALAXY_ACCOUNT_GRPC_TARGET": account.target,
            "GALAXY_ADMIN_USERNAME": ADMIN[0],
            "GALAXY_ADMIN_PASSWORD": ADMIN[1],
            "GALAXY_ADMIN_BCRYPT_ROUNDS": "4",
            "GALAXY_AUTH_CODE_PEPPER": uuid.uuid4().hex * 2,
        })
        targets = {"account": account.target, "auth": auth.target}
        edges = [local.edge(f"edge-{i}", targets, bootstrap) for i in range(2)]
        local.wait_ready(account, auth, *edges, following=edges)
        yield ReplyStack(
            account_target=account.target,
            metrics_url=account.metrics_url,
            edges=[edge.target for edge in edges],
        )


def new_user(stack: ReplyStack) -> str:
    reply = stack.account().EnsureAccountByEmail(
        account_pb2.EnsureAccountByEmailRequest(
            email=f"reply-{uuid.uuid4().hex[:10]}@example.com", preferred_language="en", time_zone="UTC"
        ),
        timeout=10,
    )
    assert reply.outcome == "created", reply
    return reply.user_id


def read(edge: str, user_id: str) -> httpx.Response:
    return httpx.get(f"{edge}{ACCOUNT}", headers={"X-User-ID": user_id}, timeout=10)


def account_of(edge: str, user_id: str) -> dict:
    response = read(edge, user_id)
    assert response.status_code == 200, response.text
    return response.json()["account"]


async def seconds_until_fresh(edge: str, user_id: str, fresh: Callable[[httpx.Response], bool],
                              since: float) -> float:
    """How long after `since` the edge first answered fresh: the earliest START of a request
    whose answer was. Requests start every 20 ms and overlap, so a slow answer on a loaded
    machine does not delay the next probe."""
    fresh_at: list[float] = []

    async def probe(client: httpx.AsyncClient) -> None:
        started = time.monotonic()
        if fresh(await client.get(ACCOUNT, headers={"X-User-ID": user_id})):
            fresh_at.append(started)

    probes: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=edge, timeout=10,
                                 limits=httpx.Limits(max_connections=16)) as client:
        while not fresh_at and time.monotonic() - since < GIVE_UP_SECONDS:
            if len(probes) < 8:
                task = asyncio.create_task(probe(client))
                probes.add(task)
                task.add_done_callback(probes.discard)
            await asyncio.sleep(0.02)
        await asyncio.gather(*probes)
    assert fresh_at, f"{edge} never answered fresh within {GIVE_UP_SECONDS}s"
    return min(fresh_at) - since


def admin_post(edge: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{edge}{path}", json=body, auth=ADMIN, timeout=10)


def field(name: str, value) -> Callable[[httpx.Response], bool]:  # noqa: ANN001 - any JSON value
    return lambda r: r.status_code == 200 and r.json()["account"].get(name) == value


def refused(r: httpx.Response) -> bool:
    return r.status_code == 400


#: Each kind of write: (how it is made through edge 0 — or straight to account — for a user, and
#: what the fresh answer looks like).
WRITES: dict[str, tuple[Callable[[ReplyStack, str], None], Callable[[httpx.Response], bool]]] = {
    "profile": (
        lambda s, u: httpx.patch(f"{s.edges[0]}{ACCOUNT}/profile", headers={"X-User-ID": u},
                                 json={"display_name": "Fresh Name"}, timeout=10).raise_for_status(),
        field("display_name", "Fresh Name"),
    ),
    "settings": (
        lambda s, u: httpx.patch(f"{s.edges[0]}{ACCOUNT}/settings", headers={"X-User-ID": u},
                                 json={"time_zone": "Asia/Tokyo"}, timeout=10).raise_for_status(),
        field("time_zone", "Asia/Tokyo"),
    ),
    "declared country (straight to account, as geo does)": (
        lambda s, u: s.account().SyncDeclaredCountry(
            account_pb2.SyncDeclaredCountryRequest(user_id=u, declared_country="JP"), timeout=10),
        field("declared_country", "JP"),
    ),
    "entitlement": (
        lambda s, u: admin_post(s.edges[0], f"/api/v1/admin/users/{u}/entitlements",
                                {"tier": "monthly", "source": "admin_console", "actor": ACTOR})
        .raise_for_status(),
        lambda r: r.status_code == 200 and r.json()["account"]["entitlement"]["plan_code"] == "monthly",
    ),
    "limit": (
        lambda s, u: admin_post(s.edges[0], f"/api/v1/admin/users/{u}/limits",
                                {"limit_code": "max_active_games", "value": 2, "reason_code": "trial",
                                 "actor": ACTOR}).raise_for_status(),
        lambda r: r.status_code == 200 and len(r.json()["account"]["active_limits"]) == 1,
    ),
    "sanction": (
        lambda s, u: admin_post(s.edges[0], f"/api/v1/admin/users/{u}/sanctions",
                                {"sanction_code": "permanent_block", "scope": "platform",
                                 "reason_code": "abuse", "actor": ACTOR}).raise_for_status(),
        refused,
    ),
    "deletion": (
        lambda s, u: httpx.post(f"{s.edges[0]}{ACCOUNT}/delete", headers={"X-User-ID": u},
                                timeout=10).raise_for_status(),
        refused,
    ),
}


def test_a_repeated_read_costs_account_one_call_per_edge(reply_stack) -> None:
    user_id = new_user(reply_stack)
    before = reply_stack.reads()
    for edge in reply_stack.edges:
        for _ in range(5):
            assert account_of(edge, user_id)["user_id"] == user_id
    assert reply_stack.reads() - before == 2


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_write_is_read_fresh_through_the_other_edge_within_a_second(reply_stack, kind) -> None:
    write, fresh = WRITES[kind]
    user_id = new_user(reply_stack)
    for edge in reply_stack.edges:  # both edges keep the answer before the write
        for _ in range(2):
            assert not fresh(read(edge, user_id))
    before = reply_stack.reads()
    assert not fresh(read(reply_stack.edges[1], user_id))
    assert reply_stack.reads() == before, "the other edge did not keep the answer"

    write(reply_stack, user_id)
    written = time.monotonic()
    if "straight" not in kind:  # the edge that carried the write reads it back at once
        assert fresh(read(reply_stack.edges[0], user_id)), kind
    seconds = asyncio.run(seconds_until_fresh(reply_stack.edges[1], user_id, fresh, written))
    print(f"{kind}: fresh through the other edge after {seconds:.3f}s")
    assert seconds <= FRESH_SECONDS, f"{kind}: the other edge answered stale for {seconds:.2f}s"


def kept_everywhere(stack: ReplyStack, user_id: str) -> None:
    """Wait until both edges answer the user without account (a change event in flight may
    still make an edge ask once more)."""
    for _ in range(50):
        before = stack.reads()
        for edge in stack.edges:
            read(edge, user_id).raise_for_status()
        if stack.reads() == before:
            return
        time.sleep(0.2)
    raise AssertionError("the edges never kept the answer")


def test_a_grant_that_ends_is_never_served_late(reply_stack) -> None:
    user_id = new_user(reply_stack)
    ends = datetime.now(UTC) + timedelta(seconds=8)
    granted = admin_post(reply_stack.edges[0], f"/api/v1/admin/users/{user_id}/entitlements",
                         {"tier": "monthly", "source": "admin_console", "actor": ACTOR,
                          "ends_at": ends.isoformat().replace("+00:00", "Z")})
    assert granted.status_code == 200, granted.text
    kept_everywhere(reply_stack, user_id)
    for edge in reply_stack.edges:
        assert account_of(edge, user_id)["entitlement"]["plan_code"] == "monthly"
    assert datetime.now(UTC) < ends, "the machine was too slow to see the grant before its end"
    while datetime.now(UTC) < ends:  # no event will come: only the clock changes the answer
        time.sleep(0.05)
    for edge in reply_stack.edges:
        assert account_of(edge, user_id)["entitlement"]["plan_code"] == "free", edge
