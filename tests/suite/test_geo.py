"""Per-country counters through the edge, every process real (docs/geo.md).

* Requests of one user from addresses in two countries make two counters; the first
  `X-Forwarded-For` entry is the one that counts; a request without the header counts nothing.
* Deleting the account (through the edge) removes the counters: account's outbox, the broker,
  geo's lifecycle consumer; the admin view then answers 404.
* A burst larger than an edge's queue loses exactly the sightings that found the queue full, and
  the edge says how many; SIGTERM sends everything still queued before the process exits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
import httpx
import pytest
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_kit.testing import free_port
from suite_helpers import error_of, wait_until

# Calls account over gRPC and starts a geo of its own: not against an external suite (make compose-test).
pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

SERVICES = ("auth", "account", "lobby", "runtime", "mail", "notify", "geo")
#: Registry allocations of long standing: their countries do not move.
IN_GERMANY = ("5.9.0.1", "2a01:4f8::1")
IN_BRITAIN = "81.2.69.142"
IN_THE_US = "8.8.8.8"
STARTUP_TIMEOUT_SECONDS = 120.0



def new_user(suite) -> str:
    with grpc.insecure_channel(suite.stack.ports.grpc_target("account")) as channel:
        reply = account_pb2_grpc.AccountServiceStub(channel).EnsureAccountByEmail(
            account_pb2.EnsureAccountByEmailRequest(
                email=f"geo-{uuid.uuid4().hex[:10]}@example.test",
                preferred_language="en",
                time_zone="UTC",
            ),
            timeout=30,
        )
    return reply.user_id


def read_account(http: httpx.Client, user_id: str, forwarded_for: str | None) -> None:
    headers = {"X-User-ID": user_id}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    response = http.get("/api/v1/user/account", headers=headers)
    assert response.status_code == 200, response.text


def countries(http: httpx.Client, suite, user_id: str) -> httpx.Response:
    return http.get(f"/api/v1/admin/geo/users/{user_id}/countries", auth=suite.admin_auth)


def counts(http: httpx.Client, suite, user_id: str) -> dict[str, int]:
    response = countries(http, suite, user_id)
    assert response.status_code == 200, response.text
    return {item["country"]: item["count"] for item in response.json()["items"]}


def test_requests_from_two_countries_make_two_counters(http, suite) -> None:
    user = new_user(suite)
    before = time.time()
    for forwarded in (f"{IN_GERMANY[0]}, 10.1.2.3", IN_GERMANY[1], f"{IN_BRITAIN}, {IN_THE_US}"):
        read_account(http, user, forwarded)
    wait_until(
        lambda: counts(http, suite, user) == {"DE": 2, "GB": 1}, "the counters never appeared"
    )
    listed = countries(http, suite, user).json()
    assert listed["user_id"] == user
    assert [item["country"] for item in listed["items"]] == ["DE", "GB"]  # most seen first
    for item in listed["items"]:
        assert item["last_seen_at"].endswith("Z")
        seen = (
            time.mktime(time.strptime(item["last_seen_at"][:19], "%Y-%m-%dT%H:%M:%S"))
            - time.timezone
        )
        assert before - 5 <= seen <= time.time() + 5


def test_requests_without_x_forwarded_for_count_nothing(http, suite) -> None:
    quiet, marker = new_user(suite), new_user(suite)
    for _ in range(3):
        read_account(http, quiet, None)
    # Sightings leave an edge in order: once the marker's is counted, the quiet user's would be.
    read_account(http, marker, IN_THE_US)
    wait_until(lambda: counts(http, suite, marker) == {"US": 1}, "the marker was never counted")
    assert counts(http, suite, quiet) == {}  # known to account, never seen: 200 with no items


def test_an_unknown_user_is_not_found(http, suite) -> None:
    error_of(countries(http, suite, str(uuid.uuid4())), 404, "not_found")


def test_deletion_removes_the_counters(http, suite) -> None:
    user = new_user(suite)
    read_account(http, user, IN_GERMANY[0])
    read_account(http, user, IN_BRITAIN)
    wait_until(
        lambda: counts(http, suite, user) == {"DE": 1, "GB": 1}, "the counters never appeared"
    )
    deleted = http.post("/api/v1/user/account/delete", headers={"X-User-ID": user})
    assert deleted.status_code == 204, deleted.text
    wait_until(
        lambda: countries(http, suite, user).status_code == 404, "the counters outlived the account"
    )
    error_of(countries(http, suite, user), 404, "not_found")


# -- a burst and a clean shutdown, on an edge of its own -------------------------------------------


def test_a_burst_loses_only_what_found_the_queue_full_and_sigterm_flushes(
    http, suite, tmp_path: Path
) -> None:
    """An extra edge on the suite's services whose queue holds 5 sightings and that never sends on
    its own (a flush interval of an hour, batches of 500): 20 requests leave 5 queued, 15 dropped;
    SIGTERM sends the 5 before the process exits 0."""
    port = free_port()
    env = {
        **os.environ,
        "GALAXY_LOG_FORMAT": "json",
        "BACKEND_HTTP_LISTEN_ADDR": f"127.0.0.1:{port}",
        "BACKEND_GRPC_PUSH_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
        "GALAXY_KAFKA_BOOTSTRAP_SERVERS": suite.stack.kafka_bootstrap_servers,
        "BACKEND_GEO_OBSERVE_QUEUE_MAX": "5",
        "BACKEND_GEO_OBSERVE_BATCH_MAX": "500",
        "BACKEND_GEO_OBSERVE_FLUSH_INTERVAL_SECONDS": "3600",
        **{f"GALAXY_{s.upper()}_GRPC_TARGET": suite.stack.ports.grpc_target(s) for s in SERVICES},
    }
    log_path = tmp_path / "edge.log"
    with log_path.open("wb") as log:
        edge = subprocess.Popen(
            [sys.executable, "-m", "galaxy_edge"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert edge.poll() is None, log_path.read_text()[-3000:]
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(
            answers, "the extra edge did not start", timeout=STARTUP_TIMEOUT_SECONDS, interval=0.2
        )
        user = new_user(suite)
        with httpx.Client(base_url=base, timeout=30.0) as burst:
            for i in range(20):
                read_account(burst, user, IN_GERMANY[i % 2])
        time.sleep(2.0)  # ample time for a sender that should not send
        assert counts(http, suite, user) == {}  # queued, not sent: the interval is an hour
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(60) == 0, log_path.read_text()[-3000:]
    finally:
        if edge.poll() is None:
            edge.kill()
            edge.wait(10)
    assert counts(http, suite, user) == {"DE": 5}  # the first five, flushed at shutdown
    messages = [
        json.loads(line).get("event", "")
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    assert any("geo observations dropped" in m for m in messages), messages
    assert "geo observer stopped: 5 sent, 15 dropped (queue full), 0 refused by geo" in messages, (
        messages
    )
