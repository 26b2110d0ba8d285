"""Admin Basic auth via auth's CheckAdminCredentials; users via account's ResolveUserIdentity."""

from __future__ import annotations

import asyncio
import base64

import grpc
import pytest
from edge_doubles import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    USER_ID,
    RecordingAccountServicerDouble,
    RecordingAuthServicerDouble,
    RecordingLobbyServicerDouble,
    base_servicer,
    edge_stack,
)

ADMIN_ACCOUNTS = "/api/v1/admin/admin-accounts"
CHALLENGE = 'Basic realm="galaxy-admin"'


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    ("headers", "reaches_auth"),
    [
        ({}, False),
        ({"Authorization": "Bearer abc"}, False),
        ({"Authorization": "Basic"}, False),
        ({"Authorization": "Basic !!!not-base64!!!"}, False),
        (basic(b"no-colon"), False),
        (basic(b":password-only"), False),
        (basic(f"{ADMIN_USER}:wrong".encode()), True),
        (basic(f"intruder:{ADMIN_PASSWORD}".encode()), True),
    ],
    ids=[
        "missing",
        "bearer",
        "empty basic",
        "bad base64",
        "no colon",
        "no username",
        "bad password",
        "bad user",
    ],
)
async def test_admin_routes_answer_401_with_the_realm_without_good_credentials(
    headers, reaches_auth
) -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        response = await stack.client.get(ADMIN_ACCOUNTS, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.json()["error"]["code"] == "unauthorized"
    assert [name for name, _ in auth.calls] == (["CheckAdminCredentials"] if reaches_auth else [])


async def test_admin_with_good_credentials_reaches_the_service_as_admin_username() -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        response = await stack.client.get(ADMIN_ACCOUNTS, auth=(ADMIN_USER, ADMIN_PASSWORD))
    assert response.status_code == 200
    (check,) = auth.requests("CheckAdminCredentials")
    assert (check.username, check.password) == (ADMIN_USER, ADMIN_PASSWORD)
    (listed,) = auth.requests("AdminAdminAccountsList")
    assert listed.admin_username == ADMIN_USER


async def test_the_admin_check_carries_the_client_address_for_throttling() -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        await stack.client.get(ADMIN_ACCOUNTS, auth=(ADMIN_USER, ADMIN_PASSWORD))
        await stack.client.get(
            ADMIN_ACCOUNTS,
            auth=(ADMIN_USER, ADMIN_PASSWORD),
            headers={"X-Forwarded-For": " 203.0.113.7 , 10.0.0.1"},
        )
    peer, forwarded = auth.requests("CheckAdminCredentials")
    assert peer.client_address == "127.0.0.1"  # the HTTP peer (httpx's ASGI transport client)
    assert forwarded.client_address == "203.0.113.7"


async def test_admin_auth_runs_before_body_validation() -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        anonymous = await stack.client.post(ADMIN_ACCOUNTS, content=b"{broken")
        authenticated = await stack.client.post(
            ADMIN_ACCOUNTS, content=b"{broken", auth=(ADMIN_USER, ADMIN_PASSWORD)
        )
        created = await stack.client.post(
            ADMIN_ACCOUNTS,
            json={"username": "ops", "password": "pw"},
            auth=(ADMIN_USER, ADMIN_PASSWORD),
        )
    assert anonymous.status_code == 401
    assert authenticated.status_code == 400
    assert authenticated.json()["error"]["message"] == "body: must be valid JSON"
    assert created.status_code == 201
    (create,) = auth.requests("AdminAdminAccountsCreate")
    assert (create.admin_username, create.body.username, create.body.password) == (
        ADMIN_USER,
        "ops",
        "pw",
    )


class StalledAuthServicerDouble(RecordingAuthServicerDouble):
    """Auth that never answers CheckAdminCredentials within the edge's deadline."""

    async def CheckAdminCredentials(self, request, context):
        self.record("CheckAdminCredentials", request)
        await asyncio.sleep(30)


class FailingAuthServicerDouble(RecordingAuthServicerDouble):
    """Auth whose credential check fails with an internal error."""

    async def CheckAdminCredentials(self, request, context):
        self.record("CheckAdminCredentials", request)
        await context.abort(grpc.StatusCode.INTERNAL, "database is on fire")


class StalledAccountServicerDouble(RecordingAccountServicerDouble):
    """Account that never answers ResolveUserIdentity within the edge's deadline."""

    async def ResolveUserIdentity(self, request, context):
        self.record("ResolveUserIdentity", request)
        await asyncio.sleep(30)


def assert_refused_503(response, message: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"error": {"code": "service_unavailable", "message": message}}


ADMIN_CASES = [
    ({"missing": ("auth",)}, "the auth service is unavailable"),
    ({}, "the auth service cannot check admin credentials"),  # base class: UNIMPLEMENTED
    ({"auth": FailingAuthServicerDouble()}, "the auth service cannot check admin credentials"),
    (
        {"auth": StalledAuthServicerDouble(), "settings": {"rpc_timeout_seconds": 0.5}},
        "the auth service did not answer in time",
    ),
]


@pytest.mark.parametrize(
    ("stack_options", "message"), ADMIN_CASES, ids=["down", "unimplemented", "internal", "deadline"]
)
async def test_admin_requests_fail_closed_with_503_when_auth_cannot_check(
    stack_options, message
) -> None:
    account = RecordingAccountServicerDouble()
    async with edge_stack(account=account, **stack_options) as stack:
        response = await stack.client.get(
            "/api/v1/admin/users", auth=(ADMIN_USER, ADMIN_PASSWORD)
        )
    assert_refused_503(response, message)
    assert account.calls == []


async def test_user_routes_pass_the_caller_as_user_id() -> None:
    account = RecordingAccountServicerDouble()
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(account=account, lobby=lobby) as stack:
        response = await stack.client.get(
            "/api/v1/user/lobby/games", headers={"X-User-ID": USER_ID}
        )
    assert response.status_code == 200
    (resolved,) = account.requests("ResolveUserIdentity")
    assert resolved.user_id == USER_ID
    (listed,) = lobby.requests("UserLobbyGamesList")
    assert listed.user_id == USER_ID


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("unknown", "X-User-ID: unknown user"),
        ("not_found", "X-User-ID: unknown user"),
        ("deleted", "X-User-ID: the user account is deleted"),
        ("blocked", "X-User-ID: the user account is blocked"),
        ("", "X-User-ID: unknown user"),
    ],
)
async def test_unknown_deleted_or_blocked_users_are_400(status, message) -> None:
    account = RecordingAccountServicerDouble(default=status)
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(account=account, lobby=lobby) as stack:
        response = await stack.client.get(
            "/api/v1/user/lobby/games", headers={"X-User-ID": USER_ID}
        )
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_request", "message": message}}
    assert lobby.calls == []


USER_CASES = [
    ({"missing": ("account",)}, "the account service is unavailable"),
    ({"account": base_servicer("account")}, "the account service cannot check the user's identity"),
    (
        {"account": StalledAccountServicerDouble(), "settings": {"rpc_timeout_seconds": 0.5}},
        "the account service did not answer in time",
    ),
]


@pytest.mark.parametrize(
    ("stack_options", "message"), USER_CASES, ids=["down", "unimplemented", "deadline"]
)
async def test_user_requests_fail_closed_with_503_when_account_cannot_check(
    stack_options, message
) -> None:
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(lobby=lobby, **stack_options) as stack:
        response = await stack.client.get(
            "/api/v1/user/lobby/games", headers={"X-User-ID": USER_ID}
        )
    assert_refused_503(response, message)
    assert lobby.calls == []


async def test_public_and_internal_routes_carry_no_caller() -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        response = await stack.client.post(
            "/api/v1/public/auth/send-email-code",
            json={"email": "pilot@example.com", "locale": "de"},
            headers={"Accept-Language": "fr-CH, fr;q=0.9"},
        )
        no_language = await stack.client.post(
            "/api/v1/public/auth/send-email-code", json={"email": "pilot@example.com"}
        )
        bad_email = await stack.client.post(
            "/api/v1/public/auth/send-email-code", json={"email": "pilot"}
        )
    assert response.status_code == 200
    assert response.json() == {"challenge_id": "challenge-1"}
    first, second = auth.requests("PublicAuthSendEmailCode")
    assert first.accept_language == "fr-CH, fr;q=0.9"
    assert (first.body.email, first.body.locale) == ("pilot@example.com", "de")
    assert not second.HasField("accept_language")
    assert no_language.status_code == 200
    assert bad_email.status_code == 400
    assert bad_email.json()["error"]["message"] == "email: must be a valid e-mail address"
    assert "CheckAdminCredentials" not in [name for name, _ in auth.calls]
