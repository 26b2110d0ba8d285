"""The account through the edge, every process real: the aggregate, validation, entitlements, sanctions, deletion.

The deletion and block cascades are followed end to end: account writes the
lifecycle event into its outbox, its relay publishes it to the broker, auth's
consumer revokes every session of the user.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import new_envelope, pack
from suite_helpers import error_of, new_address, query, sign_in, user_of, wait_until

pytestmark = pytest.mark.suite

TOPIC = "galaxy.account.lifecycle.v1"




def signed_in_user(http, suite, label: str, devices: int = 1) -> tuple[str, str, list[str]]:
    """(address, user_id, device session ids) of a fresh user."""
    address = new_address(label)
    sessions = [sign_in(http, suite, address) for _ in range(devices)]
    return address, user_of(http, sessions[0]), sessions


def revoked(http, devices: list[str]) -> bool:
    return all(http.get(f"/api/v1/internal/sessions/{d}").json()["status"] == "revoked" for d in devices)


def admin_actor() -> dict:
    return {"type": "admin", "id": "admin"}


def test_aggregate_shape_profile_and_settings(http, suite, validate):
    address, user_id, _ = signed_in_user(http, suite, "acct")
    user = {"X-User-ID": user_id}
    got = http.get("/api/v1/user/account", headers=user)
    assert got.status_code == 200, got.text
    validate("AccountResponse", got.json())
    account = got.json()["account"]
    assert (account["user_id"], account["email"], account["time_zone"]) == (user_id, address, "Europe/Berlin")
    assert account["user_name"].startswith("player-") and account["preferred_language"] == "en"
    assert account["entitlement"]["plan_code"] == "free" and account["entitlement"]["max_registered_race_names"] == 1
    assert account["active_sanctions"] == [] and account["active_limits"] == []

    def unchanged() -> None:
        now = http.get("/api/v1/user/account", headers=user).json()["account"]
        assert {k: now.get(k) for k in ("display_name", "preferred_language", "time_zone", "updated_at")} == \
            {k: before.get(k) for k in ("display_name", "preferred_language", "time_zone", "updated_at")}

    profile = http.patch("/api/v1/user/account/profile", headers=user, json={"display_name": "Nova Prime"})
    assert profile.status_code == 200 and profile.json()["account"]["display_name"] == "Nova Prime"
    validate("AccountResponse", profile.json())
    before = profile.json()["account"]
    for bad in ({"display_name": "x" * 33}, {"display_name": "<script>"}, {"display_name": "ok", "race_name": "x"}):
        error_of(http.patch("/api/v1/user/account/profile", headers=user, json=bad), 400, "invalid_request")
        unchanged()
    for bad in ({"preferred_language": "en_US"}, {"time_zone": "Mars/Olympus"},
                {"preferred_language": "de", "time_zone": "Nowhere/City"}, {"time_zone": "UTC", "theme": "dark"}):
        error_of(http.patch("/api/v1/user/account/settings", headers=user, json=bad), 400, "invalid_request")
        unchanged()
    settings = http.patch("/api/v1/user/account/settings", headers=user,
                          json={"preferred_language": "pt-br", "time_zone": "America/Sao_Paulo"})
    assert settings.status_code == 200, settings.text
    assert (settings.json()["account"]["preferred_language"], settings.json()["account"]["time_zone"]) == \
        ("pt-BR", "America/Sao_Paulo")
    cleared = http.patch("/api/v1/user/account/profile", headers=user, json={"display_name": ""})
    assert "display_name" not in cleared.json()["account"] or cleared.json()["account"]["display_name"] is None

    admin_view = http.get(f"/api/v1/admin/users/{user_id}", auth=suite.admin_auth)
    assert admin_view.status_code == 200 and admin_view.json()["account"]["user_id"] == user_id
    validate("AccountResponse", admin_view.json())
    internal = http.get(f"/api/v1/internal/users/{user_id}/account-internal")
    assert internal.status_code == 200 and internal.json()["account"]["user_id"] == user_id
    listed = http.get("/api/v1/admin/users", auth=suite.admin_auth, params={"page": 1, "page_size": 2})
    assert listed.status_code == 200, listed.text
    validate("AdminUserList", listed.json())
    assert listed.json()["total"] >= 1 and len(listed.json()["items"]) <= 2
    error_of(http.get(f"/api/v1/admin/users/{uuid.uuid4()}", auth=suite.admin_auth), 404, "not_found")
    error_of(http.get("/api/v1/user/account", headers={"X-User-ID": str(uuid.uuid4())}), 400, "invalid_request")


def test_entitlement_change_expiry_and_limits(http, suite, validate):
    _, user_id, _ = signed_in_user(http, suite, "paid")
    # Far enough ahead that no machine is slow enough to see it lapse before the checks
    # below; the lapse itself is then brought forward in the data (see `lapsed`).
    ends = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    granted = http.post(f"/api/v1/admin/users/{user_id}/entitlements", auth=suite.admin_auth,
                        json={"tier": "monthly", "source": "admin_console", "actor": admin_actor(), "ends_at": ends})
    assert granted.status_code == 200, granted.text
    validate("AccountResponse", granted.json())
    snap = granted.json()["account"]["entitlement"]
    assert (snap["plan_code"], snap["is_paid"], snap["max_registered_race_names"]) == ("monthly", True, 5)
    error_of(http.post(f"/api/v1/admin/users/{user_id}/entitlements", auth=suite.admin_auth,
                       json={"tier": "gold", "source": "admin_console", "actor": admin_actor()}),
             400, "invalid_request")
    limited = http.post(f"/api/v1/admin/users/{user_id}/limits", auth=suite.admin_auth,
                        json={"limit_code": "max_active_games", "value": 2, "reason_code": "trial",
                              "actor": admin_actor()})
    assert limited.status_code == 200, limited.text
    assert [(x["limit_code"], x["value"]) for x in limited.json()["account"]["active_limits"]] == \
        [("max_active_games", 2)]
    error_of(http.post(f"/api/v1/admin/users/{user_id}/limits", auth=suite.admin_auth,
                       json={"limit_code": "no_such_limit", "value": 2, "reason_code": "trial",
                             "actor": admin_actor()}), 400, "invalid_request")

    def lapsed() -> bool:
        # The administrator's read: the edge keeps the user's own read until account's next
        # time-based change, and the time travel below is no change account knows of (the
        # real clock's end of a grant is tests/suite/test_edge_reply_cache.py's).
        e = http.get(f"/api/v1/admin/users/{user_id}", auth=suite.admin_auth).json()["account"]["entitlement"]
        return (e["plan_code"], e["is_paid"], e["max_registered_race_names"]) == ("free", False, 1)

    assert not lapsed()
    # Time travel instead of a sleep: the grant's period is moved into the past, which is
    # what an hour passing looks like to account's read-time expiry, on a machine of any speed.
    query(suite, "UPDATE account.entitlements SET starts_at = starts_at - interval '2 hours',"
          " ends_at = ends_at - interval '2 hours' WHERE user_id = $1 AND tier = 'monthly'", uuid.UUID(user_id))
    assert lapsed(), "the monthly entitlement did not fall back to free once its end had passed"
    rows = query(suite, "SELECT tier FROM account.entitlements WHERE user_id = $1 ORDER BY entitlement_id",
                 uuid.UUID(user_id))
    assert [r[0] for r in rows] == ["free", "monthly"]


def test_a_permanent_block_revokes_sessions_and_refuses_sign_in(http, suite, validate):
    address, user_id, devices = signed_in_user(http, suite, "blocked", devices=2)
    blocked = http.post(f"/api/v1/admin/users/{user_id}/sanctions", auth=suite.admin_auth,
                        json={"sanction_code": "permanent_block", "scope": "platform", "reason_code": "abuse",
                              "actor": admin_actor()})
    assert blocked.status_code == 200, blocked.text
    validate("AccountResponse", blocked.json())
    assert [s["sanction_code"] for s in blocked.json()["account"]["active_sanctions"]] == ["permanent_block"]
    wait_until(lambda: revoked(http, devices), "the blocked user's sessions were not revoked")
    reasons = query(suite, "SELECT DISTINCT actor_kind, reason FROM auth.session_revocations WHERE user_id = $1",
                    uuid.UUID(user_id))
    assert reasons == [("system", "account_permanently_blocked")]
    error = error_of(http.post("/api/v1/public/auth/send-email-code", json={"email": address}), 400,
                     "invalid_request")
    assert "cannot be used to sign in" in error["message"]
    error_of(http.get("/api/v1/user/account", headers={"X-User-ID": user_id}), 400, "invalid_request")
    error_of(http.post(f"/api/v1/admin/users/{user_id}/sanctions", auth=suite.admin_auth,
                       json={"sanction_code": "mute", "scope": "platform", "reason_code": "abuse",
                             "actor": admin_actor()}), 400, "invalid_request")


@pytest.mark.local_processes  # stops and starts auth
def test_deletion_while_auth_is_stopped_loses_nothing(http, suite):
    address, user_id, devices = signed_in_user(http, suite, "leaving", devices=2)
    suite.stack.stop_process("auth")
    try:
        deleted = http.post("/api/v1/user/account/delete", headers={"X-User-ID": user_id})
        assert deleted.status_code == 204, deleted.text
        error = error_of(http.get("/api/v1/user/account", headers={"X-User-ID": user_id}), 400, "invalid_request")
        assert "deleted" in error["message"]
    finally:
        suite.stack.start_process("auth")
    error_of(http.get(f"/api/v1/admin/users/{user_id}", auth=suite.admin_auth), 404, "not_found")
    wait_until(lambda: revoked(http, devices), "the deleted user's sessions were not revoked after auth restarted")
    again = user_of(http, sign_in(http, suite, address))
    assert again != user_id  # a deleted account is gone: the address makes a new one


@pytest.mark.local_processes  # publishes to the suite's broker
def test_the_same_event_twice_is_applied_once(http, suite):
    _, user_id, devices = signed_in_user(http, suite, "twice")
    deleted = http.post(f"/api/v1/admin/users/{user_id}/soft-delete", auth=suite.admin_auth)
    assert deleted.status_code == 204, deleted.text
    error_of(http.post(f"/api/v1/admin/users/{user_id}/soft-delete", auth=suite.admin_auth), 404, "not_found")
    wait_until(lambda: revoked(http, devices), "the sessions were not revoked")
    [(event_id, payload)] = query(suite, "SELECT event_id, payload FROM account.outbox WHERE key = $1 AND topic = $2",
                                  user_id, TOPIC)

    # A session that appears afterwards must survive a redelivery of the same event, and fall to
    # the next event of the user (published after the duplicate, on the same partition).
    late = uuid.uuid4()
    query(suite, "INSERT INTO auth.device_sessions (device_session_id, user_id, client_public_key, time_zone,"
          " challenge_id) VALUES ($1, $2, 'key', 'UTC', $3)", late, uuid.UUID(user_id), uuid.uuid4())
    follow_up = new_envelope(
        AccountLifecycleEvent(user_id=user_id, kind="permanently_blocked", actor_type="admin", actor_id="admin",
                              reason_code="test"), "account",
    )
    asyncio.run(_publish(suite.stack.kafka_bootstrap_servers, user_id, [bytes(payload), pack(follow_up)]))
    wait_until(lambda: http.get(f"/api/v1/internal/sessions/{late}").json()["status"] == "revoked",
               "the follow-up event was not applied")
    assert query(suite, "SELECT actor_id FROM auth.session_revocations WHERE device_session_id = $1", late) == \
        [(follow_up.event_id,)]
    assert query(suite, "SELECT count(*) FROM auth.inbox WHERE event_id = $1", event_id) == [(1,)]


async def _publish(bootstrap: str, key: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(TOPIC, value=value, key=key.encode())
    finally:
        await producer.stop()
