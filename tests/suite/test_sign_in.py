"""Sign-in, device sessions and administrator accounts through the edge, exactly as a gateway drives them.

Every process runs for real (the session's `suite` fixture); the login code is
read from the .eml file the local SMTP sink wrote for the mail service's
delivery.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from suite_helpers import code_from_mail, error_of, messages_to, new_address, public_key, sign_in

pytestmark = pytest.mark.suite

REALM = 'Basic realm="galaxy-admin"'



def test_sign_in_then_revoke_over_http(http, suite):
    address = new_address("suite-player")
    key = public_key()
    device = sign_in(http, suite, address, key=key, headers={"Accept-Language": "de-DE,de;q=0.9"})
    language = messages_to(suite, address)[0]["Content-Language"]
    assert language in (None, "de")  # the header names the rendered locale when mail sets it

    looked_up = http.get(f"/api/v1/internal/sessions/{device}")
    assert looked_up.status_code == 200, looked_up.text
    session = looked_up.json()
    assert session["status"] == "active" and session["client_public_key"] == key
    assert session.get("revoked_at") is None  # nullable: absent or null
    user = {"X-User-ID": session["user_id"]}

    second = sign_in(http, suite, address)
    listed = http.get("/api/v1/user/sessions", headers=user)
    assert listed.status_code == 200, listed.text
    assert {s["device_session_id"] for s in listed.json()["items"]} == {device, second}

    revoked = http.post(f"/api/v1/user/sessions/{device}/revoke", headers=user)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    after = http.get(f"/api/v1/internal/sessions/{device}").json()
    assert after["status"] == "revoked" and after["revoked_at"] == revoked.json()["revoked_at"]

    # Someone else's session is not found; an unknown user is refused by the edge (contract decision 5).
    stranger = {"X-User-ID": http.get(f"/api/v1/internal/sessions/{sign_in(http, suite, new_address('suite-other'))}")
                .json()["user_id"]}
    error_of(http.post(f"/api/v1/user/sessions/{second}/revoke", headers=stranger), 404, "not_found")
    error_of(http.post(f"/api/v1/user/sessions/{second}/revoke", headers={"X-User-ID": str(uuid.uuid4())}),
             400, "invalid_request")

    summary = http.post("/api/v1/user/sessions/revoke-all", headers=user)
    assert summary.status_code == 200, summary.text
    assert summary.json() == {"user_id": session["user_id"], "revoked_count": 1}
    assert http.get(f"/api/v1/internal/sessions/{second}").json()["status"] == "revoked"
    assert http.get("/api/v1/user/sessions", headers=user).json() == {"items": []}


def test_wrong_code_and_bad_key_are_invalid_requests(http, suite):
    address = new_address("suite-wrong")
    sent = http.post("/api/v1/public/auth/send-email-code", json={"email": address, "locale": "ru"})
    code = code_from_mail(suite, address)
    body = {"challenge_id": sent.json()["challenge_id"], "code": f"{(int(code) + 1) % 10**6:06d}",
            "client_public_key": public_key(), "time_zone": "UTC"}
    error_of(http.post("/api/v1/public/auth/confirm-email-code", json=body), 400, "invalid_request")
    body.update(code=code, client_public_key="bm90IGEga2V5")
    error = error_of(http.post("/api/v1/public/auth/confirm-email-code", json=body), 400, "invalid_request")
    assert "client_public_key" in error["message"]
    error_of(http.get(f"/api/v1/internal/sessions/{uuid.uuid4()}"), 404, "not_found")


def test_admin_accounts_and_basic_auth(http, suite):
    root = suite.admin_auth
    username = f"ops-{uuid.uuid4().hex[:8]}"
    password, new_password = "first pass phrase 1", "second pass phrase 2"

    created = http.post("/api/v1/admin/admin-accounts", auth=root,
                        json={"username": username, "password": password})
    assert created.status_code == 201, created.text
    assert set(created.json()) <= {"username", "created_at", "last_used_at", "disabled_at"}
    assert created.json()["username"] == username
    error_of(http.post("/api/v1/admin/admin-accounts", auth=root,
                       json={"username": username, "password": password}), 409, "conflict")
    error_of(http.post("/api/v1/admin/admin-accounts", auth=root,
                       json={"username": "Bad Name", "password": password}), 400, "invalid_request")

    listed = http.get("/api/v1/admin/admin-accounts", auth=(username, password))
    assert listed.status_code == 200, listed.text
    assert {root[0], username} <= {a["username"] for a in listed.json()["items"]}
    assert http.get(f"/api/v1/admin/admin-accounts/{username}", auth=root).json().get("last_used_at")
    error_of(http.get("/api/v1/admin/admin-accounts/nobody-here", auth=root), 404, "not_found")

    def refused(response: httpx.Response) -> None:
        error_of(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == REALM

    refused(http.get("/api/v1/admin/admin-accounts"))
    refused(http.get("/api/v1/admin/admin-accounts", auth=(username, "wrong password")))

    disabled = http.post(f"/api/v1/admin/admin-accounts/{username}/disable", auth=root)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"]
    refused(http.get("/api/v1/admin/admin-accounts", auth=(username, password)))
    enabled = http.post(f"/api/v1/admin/admin-accounts/{username}/enable", auth=root)
    assert enabled.status_code == 200 and enabled.json().get("disabled_at") is None
    assert http.get("/api/v1/admin/admin-accounts", auth=(username, password)).status_code == 200

    reset = http.post(f"/api/v1/admin/admin-accounts/{username}/reset-password", auth=root,
                      json={"password": new_password})
    assert reset.status_code == 200, reset.text
    refused(http.get("/api/v1/admin/admin-accounts", auth=(username, password)))
    assert http.get("/api/v1/admin/admin-accounts", auth=(username, new_password)).status_code == 200


def test_a_used_code_cannot_be_replayed_and_five_wrong_codes_kill_a_challenge(http, suite):
    address = new_address("suite-replay")
    sent = http.post("/api/v1/public/auth/send-email-code", json={"email": address})
    code = code_from_mail(suite, address)
    body = {"challenge_id": sent.json()["challenge_id"], "code": code,
            "client_public_key": public_key(), "time_zone": "UTC"}
    assert http.post("/api/v1/public/auth/confirm-email-code", json=body).status_code == 200
    error_of(http.post("/api/v1/public/auth/confirm-email-code", json=body), 400, "invalid_request")

    sent = http.post("/api/v1/public/auth/send-email-code", json={"email": address})
    code = code_from_mail(suite, address, 2)
    body.update(challenge_id=sent.json()["challenge_id"], code=f"{(int(code) + 1) % 10**6:06d}")
    for _ in range(5):
        error_of(http.post("/api/v1/public/auth/confirm-email-code", json=body), 400, "invalid_request")
    body.update(code=code)
    error_of(http.post("/api/v1/public/auth/confirm-email-code", json=body), 400, "invalid_request")


def test_known_and_unknown_addresses_get_the_same_answer_shape(http, suite):
    known = new_address("suite-known")
    sign_in(http, suite, known)
    answers = [
        http.post("/api/v1/public/auth/send-email-code", json={"email": address})
        for address in (known, new_address("suite-unknown"))
    ]
    assert [a.status_code for a in answers] == [200, 200]
    shapes = [(set(a.json()), len(a.json()["challenge_id"])) for a in answers]
    assert shapes[0] == shapes[1] == ({"challenge_id"}, len(answers[0].json()["challenge_id"]))
