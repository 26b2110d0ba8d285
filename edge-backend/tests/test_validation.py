"""Requests breaking the contract answer 400 invalid_request naming the field; no service call."""

from __future__ import annotations

import json

import pytest
from edge_doubles import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    GAME_ID,
    USER_ID,
    RecordingAccountServicerDouble,
    RecordingAuthServicerDouble,
    RecordingLobbyServicerDouble,
    RecordingRuntimeServicerDouble,
    edge_stack,
)

USER = {"X-User-ID": USER_ID}
GAMES = "/api/v1/user/lobby/games"
VALID_GAME = {
    "game_name": "Andromeda",
    "visibility": "private",
    "min_players": 2,
    "max_players": 8,
    "start_gap_hours": 1,
    "start_gap_players": 0,
    "enrollment_ends_at": "2026-03-01T12:00:00Z",
    "turn_schedule": "0 * * * *",
    "target_engine_version": "1.2.3",
}


def with_game(**changes):
    body = {**VALID_GAME, **changes}
    return {k: v for k, v in body.items() if v is not ...}


CASES = [
    # (id, method, path, kwargs, expected message)
    ("page_size=0", "GET", f"{GAMES}?page_size=0", {}, "page_size: must be >= 1"),
    ("page_size=201", "GET", f"{GAMES}?page_size=201", {}, "page_size: must be <= 200"),
    ("page=0", "GET", f"{GAMES}?page=0", {}, "page: must be >= 1"),
    ("page=abc", "GET", f"{GAMES}?page=abc", {}, "page: must be an integer"),
    ("page=1.5", "GET", f"{GAMES}?page=1.5", {}, "page: must be an integer"),
    ("page twice", "GET", f"{GAMES}?page=1&page=2", {}, "page: must be given once"),
    ("bad path uuid", "GET", f"{GAMES}/not-a-uuid", {}, "game_id: must be a valid UUID"),
    (
        "negative turn",
        "GET",
        f"/api/v1/user/games/{GAME_ID}/reports/-1",
        {},
        "turn: must be >= 0",
    ),
    (
        "non-integer turn",
        "GET",
        f"/api/v1/user/games/{GAME_ID}/reports/first",
        {},
        "turn: must be an integer",
    ),
    ("unknown field", "POST", GAMES, {"json": with_game(colour="red")}, "colour: unknown field"),
    ("missing field", "POST", GAMES, {"json": with_game(game_name=...)}, "game_name: is required"),
    (
        "wrong type",
        "POST",
        GAMES,
        {"json": with_game(min_players="two")},
        "min_players: must be an integer",
    ),
    (
        "below minimum",
        "POST",
        GAMES,
        {"json": with_game(min_players=0)},
        "min_players: must be >= 1",
    ),
    (
        "beyond int32",
        "POST",
        GAMES,
        {"json": with_game(max_players=2**31)},
        "max_players: must be <= 2147483647",
    ),
    (
        "enum",
        "POST",
        GAMES,
        {"json": with_game(visibility="public")},
        "visibility: must be one of private",
    ),
    (
        "date-time",
        "POST",
        GAMES,
        {"json": with_game(enrollment_ends_at="tomorrow")},
        "enrollment_ends_at: must be an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)",
    ),
    (
        "empty string",
        "POST",
        GAMES,
        {"json": with_game(game_name="")},
        "game_name: must be at least 1 character long",
    ),
    ("non-JSON body", "POST", GAMES, {"content": b"{not json"}, "body: must be valid JSON"),
    ("NaN", "POST", GAMES, {"content": b'{"min_players": NaN}'}, "body: must be valid JSON"),
    ("body not an object", "POST", GAMES, {"json": [1, 2]}, "body: must be an object"),
    ("no body", "POST", GAMES, {}, "body: is required"),
    (
        "form body",
        "POST",
        GAMES,
        {"content": b"a=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        "body: content type must be application/json",
    ),
    (
        "too large",
        "POST",
        GAMES,
        {"json": with_game(game_name="x" * (1024 * 1024))},
        "body: must not exceed 1048576 bytes",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_contract_violations_are_400_and_never_reach_a_service(
    method, path, kwargs, message
) -> None:
    account = RecordingAccountServicerDouble()
    lobby = RecordingLobbyServicerDouble()
    runtime = RecordingRuntimeServicerDouble()
    kwargs = {**kwargs, "headers": {**USER, **kwargs.get("headers", {})}}
    async with edge_stack(account=account, lobby=lobby, runtime=runtime) as stack:
        response = await stack.client.request(method, path, **kwargs)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_request", "message": message}}
    assert lobby.calls == [] and runtime.calls == []
    assert account.calls == []  # identity is resolved only for a valid request


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "X-User-ID: is required"),
        ({"X-User-ID": ""}, "X-User-ID: is required"),
        ({"X-User-ID": "alice"}, "X-User-ID: must be a valid UUID"),
        ({"X-User-ID": USER_ID.replace("-", "")}, "X-User-ID: must be a valid UUID"),
    ],
    ids=["missing", "empty", "not a uuid", "no hyphens"],
)
async def test_user_routes_need_a_uuid_x_user_id(headers, message) -> None:
    account = RecordingAccountServicerDouble()
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(account=account, lobby=lobby) as stack:
        response = await stack.client.get(GAMES, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_request", "message": message}}
    assert account.calls == [] and lobby.calls == []


async def test_a_valid_request_reaches_the_service_with_defaults_filled_in() -> None:
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(lobby=lobby) as stack:
        listed = await stack.client.get(
            GAMES, headers=USER, params={"page_size": "200", "sort": "x"}
        )
        created = await stack.client.post(GAMES, headers=USER, json=VALID_GAME)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "page": 1, "page_size": 200, "total": 0}
    assert created.status_code == 201
    (create,) = lobby.requests("UserLobbyGamesCreate")
    assert create.user_id == USER_ID
    assert create.body.game_name == "Andromeda" and create.body.max_players == 8
    assert create.body.enrollment_ends_at.ToJsonString() == "2026-03-01T12:00:00Z"


async def test_uuids_from_path_and_header_are_forwarded_lower_case() -> None:
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(lobby=lobby) as stack:
        response = await stack.client.get(
            f"{GAMES}/{GAME_ID.upper()}", headers={"X-User-ID": USER_ID.upper()}
        )
    assert response.status_code == 200
    (request,) = lobby.requests("UserLobbyGamesGet")
    assert (request.game_id, request.user_id) == (GAME_ID, USER_ID)


async def test_nullable_fields_accept_null() -> None:
    """`expires_at` of a sanction is nullable: null is valid and reaches the service unset."""
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        response = await stack.client.post(
            f"/api/v1/admin/users/{USER_ID}/sanctions",
            auth=(ADMIN_USER, ADMIN_PASSWORD),
            json={
                "sanction_code": "permanent_block",
                "scope": "platform",
                "reason_code": "abuse",
                "actor": {"type": "admin", "id": ADMIN_USER},
                "expires_at": None,
            },
        )
    # The account base servicer has not built it: validation passed, the call went through.
    assert response.status_code == 501


async def test_unknown_fields_inside_nested_objects_are_rejected() -> None:
    auth = RecordingAuthServicerDouble()
    async with edge_stack(auth=auth) as stack:
        response = await stack.client.post(
            f"/api/v1/admin/users/{USER_ID}/limits",
            auth=(ADMIN_USER, ADMIN_PASSWORD),
            content=json.dumps(
                {
                    "limit_code": "max_games",
                    "value": 3,
                    "reason_code": "x",
                    "actor": {"type": "admin", "name": "root"},
                }
            ),
        )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "actor.name: unknown field",
    }


async def test_free_form_bodies_accept_any_object_and_travel_verbatim() -> None:
    runtime = RecordingRuntimeServicerDouble()
    sent = b'{"cmd": "move", "args": {"fleet": "alpha", "to": [1, 2]}, "big": 9007199254740993, "f": 5.0}'
    async with edge_stack(runtime=runtime) as stack:
        response = await stack.client.post(
            f"/api/v1/user/games/{GAME_ID}/commands",
            headers={**USER, "content-type": "application/json"},
            content=sent,
        )
    assert response.status_code == 200
    # Integers stay integers (2^53+1 exact), a float stays a float: the bytes are the client's.
    assert response.content == b'{"accepted":true,"echo":' + sent + b"}"
    assert response.json()["echo"]["args"]["to"] == [1, 2]
    assert response.json()["echo"]["big"] == 2**53 + 1
    (request,) = runtime.requests("UserGamesCommands")
    assert request.body.json == sent
    assert request.user_id == USER_ID and request.game_id == GAME_ID


async def test_the_body_limit_holds_without_a_content_length() -> None:
    lobby = RecordingLobbyServicerDouble()

    async def chunks():
        yield b'{"game_name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    async with edge_stack(lobby=lobby, settings={"max_body_bytes": 1024 * 1024}) as stack:
        response = await stack.client.post(GAMES, headers=USER, content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "body: must not exceed 1048576 bytes"
    assert lobby.calls == []


async def test_huge_page_is_a_page_past_the_end_not_an_error():
    """`page` has no maximum in the contract, and admin lists document no 400:
    a page beyond the int32 the services take saturates instead of failing."""
    from galaxy_edge.spec import load_contract
    from galaxy_edge.validation import OperationValidator
    from starlette.requests import Request

    contract = load_contract()
    op = next(o for o in contract.operations if o.operation_id == "adminUsersList")
    validator = OperationValidator(op, contract.document["components"]["schemas"])
    for raw, expected in [("81390144464173144211456", 2**31 - 1), ("3000000000", 2**31 - 1), ("7", 7)]:
        scope = {"type": "http", "method": "GET", "path": op.path, "query_string": f"page={raw}".encode(),
                 "headers": [], "path_params": {}}
        assert validator.params(Request(scope)).fields["page"] == expected
