"""JSON ↔ protobuf translation and the gRPC status → envelope mapping of docs/contracts.md."""

from __future__ import annotations

import grpc
import pytest
from edge_doubles import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CREATED_AT_JSON,
    GAME_ID,
    USER_ID,
    RecordingAccountServicerDouble,
    RecordingAuthServicerDouble,
    RecordingLobbyServicerDouble,
    RecordingRuntimeServicerDouble,
    edge_stack,
)

USER = {"X-User-ID": USER_ID}
GAME = f"/api/v1/user/lobby/games/{GAME_ID}"

#: docs/contracts.md rule 4, written out: every gRPC code → (HTTP status, envelope code).
EXPECTED = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthorized"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "conflict"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "conflict"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "not_implemented"),
    grpc.StatusCode.UNAVAILABLE: (503, "service_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "service_unavailable"),
    grpc.StatusCode.CANCELLED: (500, "internal_error"),
    grpc.StatusCode.UNKNOWN: (500, "internal_error"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (500, "internal_error"),
    grpc.StatusCode.OUT_OF_RANGE: (500, "internal_error"),
    grpc.StatusCode.INTERNAL: (500, "internal_error"),
    grpc.StatusCode.DATA_LOSS: (500, "internal_error"),
}
CLIENT_SAFE = {400, 401, 403, 404, 409, 501}


def test_the_table_covers_every_grpc_error_code() -> None:
    assert set(EXPECTED) == set(grpc.StatusCode) - {grpc.StatusCode.OK}


@pytest.mark.parametrize("code", list(EXPECTED), ids=[c.name for c in EXPECTED])
async def test_grpc_status_maps_to_the_envelope(code: grpc.StatusCode) -> None:
    status, envelope_code = EXPECTED[code]
    lobby = RecordingLobbyServicerDouble(
        fail_with=code, details="game is in state running; db=10.0.0.7"
    )
    async with edge_stack(lobby=lobby) as stack:
        response = await stack.client.get(GAME, headers=USER)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == envelope_code
    if status in CLIENT_SAFE:
        # The status details are the service's client-safe message.
        assert body["error"]["message"] == "game is in state running; db=10.0.0.7"
    else:
        # 500/503 messages are fixed: details may describe internals.
        assert "10.0.0.7" not in body["error"]["message"]
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="galaxy-admin"'
    assert len(lobby.requests("UserLobbyGamesGet")) == 1


async def test_an_operation_the_service_has_not_built_is_a_501_envelope() -> None:
    async with edge_stack() as stack:
        response = await stack.client.get("/api/v1/user/sessions", headers=USER)
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "not_implemented"


async def test_a_down_service_is_a_503_envelope() -> None:
    async with edge_stack(missing=("lobby",)) as stack:
        response = await stack.client.get(GAME, headers=USER)
    assert response.status_code == 503
    assert response.json() == {
        "error": {"code": "service_unavailable", "message": "the lobby service is unavailable"}
    }


async def test_the_reply_becomes_contract_json_with_rfc3339_timestamps() -> None:
    lobby = RecordingLobbyServicerDouble()
    async with edge_stack(lobby=lobby) as stack:
        response = await stack.client.get(GAME, headers=USER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    game = response.json()
    assert game["created_at"] == CREATED_AT_JSON
    assert game["enrollment_ends_at"] == CREATED_AT_JSON
    assert game["game_id"] == GAME_ID and game["owner_user_id"] == USER_ID
    # Fields without presence are printed even when zero; unset optional/nullable ones are omitted.
    assert game["current_turn"] == 0 and game["start_gap_players"] == 0
    assert "started_at" not in game and "description" not in game


async def test_admin_list_timestamps_are_rfc3339() -> None:
    async with edge_stack(auth=RecordingAuthServicerDouble()) as stack:
        response = await stack.client.get(
            "/api/v1/admin/admin-accounts", auth=(ADMIN_USER, ADMIN_PASSWORD)
        )
    assert response.status_code == 200
    assert response.json() == {"items": [{"username": ADMIN_USER, "created_at": CREATED_AT_JSON}]}


async def test_204_operations_answer_an_empty_body() -> None:
    account = RecordingAccountServicerDouble()
    async with edge_stack(account=account) as stack:
        response = await stack.client.post("/api/v1/user/account/delete", headers=USER)
    assert response.status_code == 204
    assert response.content == b""
    (request,) = account.requests("UserAccountDelete")
    assert request.user_id == USER_ID


async def test_201_is_the_contract_status_of_a_create() -> None:
    lobby = RecordingLobbyServicerDouble()
    body = {
        "game_name": "Andromeda",
        "visibility": "private",
        "min_players": 2,
        "max_players": 8,
        "start_gap_hours": 1,
        "start_gap_players": 0,
        "enrollment_ends_at": "2026-03-01T12:00:00+02:00",
        "turn_schedule": "0 * * * *",
        "target_engine_version": "1.2.3",
    }
    async with edge_stack(lobby=lobby) as stack:
        response = await stack.client.post("/api/v1/user/lobby/games", headers=USER, json=body)
    assert response.status_code == 201
    assert response.json()["game_name"] == "Andromeda"
    (request,) = lobby.requests("UserLobbyGamesCreate")
    assert request.body.enrollment_ends_at.ToJsonString() == "2026-03-01T10:00:00Z"


async def test_integer_path_parameters_reach_the_service_as_integers() -> None:
    runtime = RecordingRuntimeServicerDouble()
    async with edge_stack(runtime=runtime) as stack:
        response = await stack.client.get(f"/api/v1/user/games/{GAME_ID}/reports/7", headers=USER)
    assert response.status_code == 200
    assert response.content == b'{"turn":7}'
    (request,) = runtime.requests("UserGamesReport")
    assert (request.turn, request.game_id) == (7, GAME_ID)


async def test_an_unexpected_edge_failure_is_a_500_envelope_without_details(monkeypatch) -> None:
    async with edge_stack() as stack:
        handler = stack.edge.operation_handlers[("GET", "/api/v1/user/lobby/games")]

        def explode(request):
            raise RuntimeError("secret stack detail")

        monkeypatch.setattr(handler.validator, "params", explode)
        response = await stack.client.get("/api/v1/user/lobby/games", headers=USER)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal server error"}
    }
    assert "secret" not in response.text


async def test_a_reply_with_a_service_crash_is_500_without_the_exception_text() -> None:
    class CrashingLobbyServicerDouble(RecordingLobbyServicerDouble):
        """Test double of the lobby service whose handler raises an unexpected exception."""

        async def UserLobbyGamesGet(self, request, context):
            raise ValueError("password=hunter2")

    async with edge_stack(lobby=CrashingLobbyServicerDouble()) as stack:
        response = await stack.client.get(GAME, headers=USER)
    assert response.status_code == 500
    assert "hunter2" not in response.text
