"""Notifications through the edge, every process real, on a suite of their own.

The suite has its own broker and database (and short push retries: 3 attempts, 0.5 s then 1 s
apart), so no other test's gateway or intents interfere. A gateway is played by `Gateway`: a
real gRPC client of the edge's push listener collecting what it receives.

Covers: a lobby invitation reaching a subscribed gateway; a gateway that reconnects with its
last event id missing nothing and getting nothing twice; no gateway -> retries -> dead letter
(and the invitation's e-mail); a malformed intent listed under /malformed with the next valid one
still delivered; the same intent twice -> one notification; the admin routes (paging, detail,
literal routes before the id route, 400/404); account deletion dropping pending notifications.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from galaxy.edge.v1 import push_pb2, push_pb2_grpc
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy_devstack.stack import EDGE, free_port
from galaxy_devstack.testing import create_database, launch_suite
from galaxy_kit.events import new_envelope, pack
from galaxy_kit.events.testing import produce_raw
from google.protobuf.struct_pb2 import Struct
from suite_helpers import error_of, messages_to, new_address, query, sign_in, user_of, wait_until

# Starts a suite of its own with notify's fast retries: not against an external suite (make compose-test).
pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

LOBBY = "/api/v1/user/lobby"
ADMIN = "/api/v1/admin/notifications"
INTENTS = "galaxy.notify.intents.v1"
MAX_ATTEMPTS = 3

ENVIRONMENT = {
    "GALAXY_NOTIFY_PUSH_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "GALAXY_NOTIFY_PUSH_RETRY_BASE_SECONDS": "0.5",
    "GALAXY_NOTIFY_PUSH_RETRY_MAX_SECONDS": "1",
    "GALAXY_NOTIFY_PUSH_HEARTBEAT_SECONDS": "0.5",
    "GALAXY_NOTIFY_PUSH_POLL_INTERVAL_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
def notify_suite(request, postgres_cluster):
    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-notify-"))
    failed_before = request.session.testsfailed
    database_url = create_database(postgres_cluster, f"notify_{uuid.uuid4().hex[:12]}")
    with launch_suite(state_dir, database_url=database_url, environ=ENVIRONMENT) as running:
        yield running
    if request.session.testsfailed == failed_before:
        shutil.rmtree(state_dir, ignore_errors=True)
    else:
        print(f"notify suite state kept in {state_dir}")


@pytest.fixture(scope="module")
def http(notify_suite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=notify_suite.edge_url, timeout=60.0) as client:
        yield client


class Gateway:
    """A gateway subscribed to the edge's push stream, collecting events on a thread."""

    def __init__(self, target: str, gateway_id: str, last_event_id: str = "") -> None:
        self.channel = grpc.insecure_channel(target)
        self.call = push_pb2_grpc.PushServiceStub(self.channel).Subscribe(
            push_pb2.SubscribeRequest(gateway_id=gateway_id, last_event_id=last_event_id))
        self.events: list = []
        self.error: grpc.RpcError | None = None
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            for event in self.call:
                self.events.append(event)
        except grpc.RpcError as error:
            self.error = error

    def of(self, user_id: str) -> list:
        return [e for e in list(self.events) if e.user_id == user_id]

    def close(self) -> None:
        self.call.cancel()
        self._thread.join(10)
        self.channel.close()


@pytest.fixture
def gateways(notify_suite) -> Iterator:
    opened: list[Gateway] = []

    def open_one(gateway_id: str, last_event_id: str = "") -> Gateway:
        gateway = Gateway(notify_suite.push_target, gateway_id, last_event_id)
        opened.append(gateway)
        # The subscription is made on the gateway's thread and relayed by the edge to notify: wait
        # until notify holds it, or a notification stored meanwhile (retried every 0.5 s here) could
        # be dead-lettered before this gateway is connected.
        wait_until(lambda: gateway.error is not None or query(
            notify_suite,
            "SELECT 1 FROM notify.push_consumers WHERE consumer_id = $1 AND connected_until > now()",
            gateway_id,
        ), f"notify holding the stream of {gateway_id}", timeout=60)
        assert gateway.error is None, gateway.error
        return gateway

    yield open_one
    for gateway in opened:
        gateway.close()


def users(http, suite, count: int, label: str) -> list[tuple[str, str]]:
    """`count` signed-in users: (user id, e-mail address)."""
    def one(i: int) -> tuple[str, str]:
        address = new_address(f"{label}{i}")
        return user_of(http, sign_in(http, suite, address)), address

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def private_game(http, owner: str) -> str:
    body = {"game_name": f"Orion {uuid.uuid4().hex[:6]}", "visibility": "private", "min_players": 2,
            "max_players": 8, "start_gap_hours": 0, "start_gap_players": 0,
            "enrollment_ends_at": (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "turn_schedule": "0 */6 * * *", "target_engine_version": "1.0.0"}
    created = http.post(f"{LOBBY}/games", headers={"X-User-ID": owner}, json=body)
    assert created.status_code == 201, created.text
    game_id = created.json()["game_id"]
    opened = http.post(f"{LOBBY}/games/{game_id}/open-enrollment", headers={"X-User-ID": owner})
    assert opened.status_code == 200, opened.text
    return game_id


def invite(http, owner: str, game_id: str, user: str) -> str:
    sent = http.post(f"{LOBBY}/games/{game_id}/invites", headers={"X-User-ID": owner},
                     json={"invited_user_id": user, "race_name": f"Race_{uuid.uuid4().hex[:6]}"})
    assert sent.status_code == 201, sent.text
    return sent.json()["invite_id"]


def admin_list(http, suite, path: str = "", **params) -> dict:
    listed = http.get(f"{ADMIN}{path}", auth=suite.admin_auth, params={"page_size": 200, **params})
    assert listed.status_code == 200, listed.text
    return listed.json()


def notifications_of(http, suite, user: str) -> list[dict]:
    return [n for n in admin_list(http, suite)["items"] if n.get("user_id") == user]


def publish(suite, *records: bytes, key: str | None = None) -> None:
    """Records keyed by `key` go to one partition, so notify stores them in this order."""
    asyncio.run(produce_raw(suite.broker.bootstrap_servers, INTENTS,
                            [(key.encode() if key else None, r) for r in records]))


def intent_record(user: str, *, intent_id: str | None = None, params: dict | None = None) -> bytes:
    values = Struct()
    values.update(params if params is not None else {
        "game_id": str(uuid.uuid4()), "game_name": "Andromeda", "status": "paused", "reason": "owner_pause"})
    message = NotificationIntent(intent_id=intent_id or str(uuid.uuid4()), user_id=user, kind="lobby.game.paused",
                                 params=values, source="lobby")
    message.occurred_at.FromDatetime(datetime.now(UTC))
    return pack(new_envelope(message, "lobby"))


def test_a_lobby_invitation_reaches_a_subscribed_gateway(http, notify_suite, gateways):
    (owner, _), (bob, _) = users(http, notify_suite, 2, "push")
    gateway = gateways(f"gw-{uuid.uuid4().hex[:6]}")
    game_id = private_game(http, owner)
    invite_id = invite(http, owner, game_id, bob)

    wait_until(lambda: gateway.of(bob), "the invitation pushed to the gateway", timeout=60)
    [event] = gateway.of(bob)
    assert event.kind == "lobby.invite.received"
    assert dict(event.payload)["invite_id"] == invite_id and dict(event.payload)["game_id"] == game_id
    # Pushed, so never retried, dead-lettered nor e-mailed.
    detail = http.get(f"{ADMIN}/{event.event_id}", auth=notify_suite.admin_auth)
    assert detail.status_code == 200, detail.text
    assert (detail.json()["kind"], detail.json()["user_id"]) == ("lobby.invite.received", bob)


def test_a_gateway_reconnecting_with_its_last_event_id_misses_nothing(http, notify_suite, gateways):
    (owner, _), *invitees = users(http, notify_suite, 4, "resume")
    invitee_ids = [u for u, _ in invitees]
    game_id = private_game(http, owner)
    name = f"gw-{uuid.uuid4().hex[:6]}"
    first = gateways(name)
    invite(http, owner, game_id, invitee_ids[0])
    wait_until(lambda: first.of(invitee_ids[0]), "the first push", timeout=60)
    last_seen = first.events[-1].event_id
    first.close()

    for user in invitee_ids[1:]:  # while the gateway is away
        invite(http, owner, game_id, user)
    wait_until(lambda: all(notifications_of(http, notify_suite, u) for u in invitee_ids[1:]),
               "the notifications stored", timeout=60)
    again = gateways(name, last_event_id=last_seen)
    wait_until(lambda: all(again.of(u) for u in invitee_ids[1:]), "the missed pushes", timeout=60)
    assert again.error is None
    # Each once, nothing up to the last one seen (three users: three partitions, so any order).
    ours = [e.user_id for e in again.events if e.user_id in invitee_ids]
    assert sorted(ours) == sorted(invitee_ids[1:])


def test_without_a_gateway_a_notification_is_retried_then_dead_lettered_and_emailed(http, notify_suite):
    (owner, _), (bob, bob_address) = users(http, notify_suite, 2, "nobody")
    game_id = private_game(http, owner)
    invite(http, owner, game_id, bob)

    def dead() -> list[dict]:
        ours = {n["notification_id"] for n in notifications_of(http, notify_suite, bob)}
        return [d for d in admin_list(http, notify_suite, "/dead-letters")["items"] if d["notification_id"] in ours]

    wait_until(dead, "the dead letter", timeout=60)
    [letter] = dead()
    assert letter["reason"] == f"no push consumer connected after {MAX_ATTEMPTS} attempts"
    wait_until(lambda: any("invited" in str(m["Subject"]) for m in messages_to(notify_suite, bob_address)),
               "the invitation's e-mail", timeout=60)
    [mail] = [m for m in messages_to(notify_suite, bob_address) if "invited" in str(m["Subject"])]
    assert mail["X-Galaxy-Template"] == "notify.invite_received"


def test_a_malformed_intent_is_listed_and_the_next_valid_one_still_delivered(http, notify_suite, gateways):
    [(user, _)] = users(http, notify_suite, 1, "malformed")
    gateway = gateways(f"gw-{uuid.uuid4().hex[:6]}")
    bad = intent_record(user, params={"game_id": "nope", "game_name": "X", "status": "paused"})
    good_id = str(uuid.uuid4())
    publish(notify_suite, bad, intent_record(user, intent_id=good_id))

    wait_until(lambda: gateway.of(user), "the valid intent pushed", timeout=60)
    assert [e.kind for e in gateway.of(user)] == ["lobby.game.paused"]
    malformed = [m for m in admin_list(http, notify_suite, "/malformed")["items"]
                 if m["payload"]["intent"]["user_id"] == user]
    assert len(malformed) == 1 and malformed[0]["reason"].startswith("params.game_id")


def test_the_same_intent_twice_is_one_notification(http, notify_suite, gateways):
    [(user, _)] = users(http, notify_suite, 1, "twice")
    gateway = gateways(f"gw-{uuid.uuid4().hex[:6]}")
    intent_id = str(uuid.uuid4())
    publish(notify_suite, intent_record(user, intent_id=intent_id), intent_record(user, intent_id=intent_id))
    marker = str(uuid.uuid4())
    publish(notify_suite, intent_record(user, intent_id=marker))  # after both copies on the same path

    wait_until(lambda: len(gateway.of(user)) >= 2, "the intent and the marker", timeout=60)
    stored = notifications_of(http, notify_suite, user)
    assert sorted(n["idempotency_key"] for n in stored) == sorted([intent_id, marker])
    assert len(gateway.of(user)) == 2


@pytest.fixture
def second_edge(notify_suite) -> Iterator[str]:
    """Another edge process in front of the same services: its push target."""
    push = f"127.0.0.1:{free_port()}"
    env = {**notify_suite.stack._child_env(EDGE), "BACKEND_HTTP_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
           "BACKEND_GRPC_PUSH_LISTEN_ADDR": push}
    log = open(notify_suite.stack.logs_dir / "edge-2.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "galaxy_edge"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        def serving() -> bool:
            with grpc.insecure_channel(push) as channel:
                try:
                    grpc.channel_ready_future(channel).result(timeout=1)
                    return True
                except grpc.FutureTimeoutError:
                    return False
        wait_until(serving, "the second edge's push listener", timeout=120, interval=0.5)
        yield push
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_two_edges_each_gateway_gets_each_event_once(http, notify_suite, gateways, second_edge):
    [(user, _)] = users(http, notify_suite, 1, "edges")
    a_name, b_name = f"gw-a-{uuid.uuid4().hex[:6]}", f"gw-b-{uuid.uuid4().hex[:6]}"
    # Gateway A is connected through both edges (one stream sends, the other stands by); B through the second.
    a_first = gateways(a_name)
    wait_until(lambda: a_first.error is None and _holding(notify_suite, a_name), "A's stream held", timeout=60)
    a_second = Gateway(second_edge, a_name)
    b = Gateway(second_edge, b_name)
    try:
        # Published before B's stream is held, B's copies would wait for a retry (backoff up to
        # half a minute and more), which is the retry test's subject, not this one's.
        wait_until(lambda: b.error is None and _holding(notify_suite, b_name), "B's stream held", timeout=60)
        ids = [str(uuid.uuid4()) for _ in range(6)]
        publish(notify_suite, *(intent_record(user, intent_id=i) for i in ids), key=user)
        wait_until(lambda: len(a_first.of(user)) == 6 and len(b.of(user)) == 6, "six pushes each", timeout=60)
        keys = _keys(http, notify_suite, user)
        assert [keys[e.event_id] for e in b.of(user)] == ids  # one key, one partition: publishing order
        assert [keys[e.event_id] for e in a_first.of(user)] == ids and a_second.of(user) == []

        a_first.close()  # the first edge's stream goes; the standby behind the second edge takes over
        more = [str(uuid.uuid4()) for _ in range(3)]
        publish(notify_suite, *(intent_record(user, intent_id=i) for i in more), key=user)
        wait_until(lambda: len(b.of(user)) == 9, "three more for B", timeout=60)
        wait_until(lambda: {keys.get(e.event_id) for e in a_second.of(user)} >= set(more) or
                   _refresh(keys, http, notify_suite, user), "the standby taking over", timeout=60)
        # The standby subscribed without a last event id: it resumes from what A was sent.
        assert [keys[e.event_id] for e in a_second.of(user)] == more
        assert [keys[e.event_id] for e in b.of(user)] == ids + more
    finally:
        a_second.close()
        b.close()


def _keys(http, suite, user: str) -> dict[str, str]:
    return {n["notification_id"]: n["idempotency_key"] for n in notifications_of(http, suite, user)}


def _refresh(keys: dict[str, str], http, suite, user: str) -> bool:
    keys.update(_keys(http, suite, user))
    return False


def _holding(suite, consumer: str) -> bool:
    async def run() -> bool:
        import asyncpg
        conn = await asyncpg.connect(suite.database_url)
        try:
            until = await conn.fetchval(
                "SELECT connected_until FROM notify.push_consumers WHERE consumer_id = $1", consumer)
            return until is not None
        finally:
            await conn.close()
    return asyncio.run(run())


def test_admin_routes(http, notify_suite):
    page = admin_list(http, notify_suite, page=1, page_size=1)
    assert (page["page"], page["page_size"], len(page["items"])) == (1, 1, 1) and page["total"] >= 1
    for literal in ("/dead-letters", "/malformed"):  # not taken for a notification id
        assert "items" in admin_list(http, notify_suite, literal)
    error_of(http.get(f"{ADMIN}/{uuid.uuid4()}", auth=notify_suite.admin_auth), 404, "not_found")
    error_of(http.get(f"{ADMIN}/not-a-uuid", auth=notify_suite.admin_auth), 400, "invalid_request")
    error_of(http.get(ADMIN, auth=notify_suite.admin_auth, params={"page_size": 0}), 400, "invalid_request")
    assert http.get(ADMIN).status_code == 401


def test_an_account_deletion_drops_its_pending_notifications(http, notify_suite):
    (owner, _), (bob, _) = users(http, notify_suite, 2, "deleted")
    game_id = private_game(http, owner)
    invite(http, owner, game_id, bob)
    wait_until(lambda: notifications_of(http, notify_suite, bob), "the pending notification", timeout=60)
    deleted = http.post("/api/v1/user/account/delete", headers={"X-User-ID": bob})
    assert deleted.status_code == 204, deleted.text
    wait_until(lambda: not notifications_of(http, notify_suite, bob), "the pending notification dropped", timeout=60)
