"""The edge serves exactly the contract's operations, routed as docs/contracts.md decides."""

from __future__ import annotations

import yaml
from edge_doubles import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    USER_ID,
    RecordingAuthServicerDouble,
    RecordingNotifyServicerDouble,
    edge_stack,
)
from galaxy_edge.app import create_app
from galaxy_edge.downstream import EDGE, find_rpc, owner_of
from galaxy_edge.routing import ContractRoute
from galaxy_edge.settings import EdgeSettings
from galaxy_edge.spec import read_contract_text

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ADMIN_AUTH = (ADMIN_USER, ADMIN_PASSWORD)


def contract_operations() -> set[tuple[str, str, str]]:
    """(METHOD, path, operationId) straight from the packaged YAML, without the edge's loader."""
    document = yaml.safe_load(read_contract_text())
    return {
        (method.upper(), path, op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def served_operations(app) -> set[tuple[str, str, str]]:
    return {
        (method, route.path, op.operation_id)
        for route in app.routes
        if isinstance(route, ContractRoute)
        for method, op in route.operations.items()
    }


def test_the_app_routes_exactly_the_78_contract_operations() -> None:
    expected = contract_operations()
    assert len(expected) == 78
    assert served_operations(create_app(EdgeSettings())) == expected


def test_every_service_operation_has_an_owner_and_an_rpc_in_the_stubs() -> None:
    missing = []
    for method, path, operation_id in contract_operations():
        owner = owner_of(path)
        if owner == EDGE:
            continue
        rpc_name = operation_id[0].upper() + operation_id[1:]
        if find_rpc(owner, rpc_name) is None:
            missing.append((owner, rpc_name))
    assert missing == []


def test_every_request_field_the_edge_sends_exists_in_the_rpc_request_message() -> None:
    edge = create_app(EdgeSettings()).state.edge
    mismatched = {}
    for handler in edge.operation_handlers.values():
        op = handler.operation
        sent = {"user_id"} if op.security == "UserHeader" else set()
        sent |= {"admin_username"} if op.security == "AdminBasicAuth" else set()
        sent |= {p.name for p in op.parameters if p.location in ("path", "query")}
        sent |= {"accept_language" for p in op.parameters if p.name == "Accept-Language"}
        sent |= {"body"} if op.body_schema is not None else set()
        fields = set(handler.rpc.request_class.DESCRIPTOR.fields_by_name)
        if sent != fields:
            mismatched[op.operation_id] = sorted(sent ^ fields)
    assert mismatched == {}


async def test_openapi_json_serves_the_corrected_contract() -> None:
    async with edge_stack() as stack:
        response = await stack.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    served = {
        (method.upper(), path, op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }
    assert served == contract_operations()
    detail = document["components"]["schemas"]["LobbyGameDetail"]
    assert "allOf" not in detail
    assert detail["additionalProperties"] is False
    assert {"game_id", "game_type", "current_turn", "visibility", "runtime_status"} <= set(
        detail["required"]
    )
    assert {"owner_user_id", "started_at", "finished_at"} <= set(detail["properties"])


async def test_unknown_path_is_a_404_envelope() -> None:
    async with edge_stack() as stack:
        for path in ("/nope", "/api/v1/user/lobby/games/", "/api/v1/user/accounts"):
            response = await stack.client.get(path, headers={"X-User-ID": USER_ID})
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_a_405_envelope_listing_every_method_of_the_path() -> None:
    async with edge_stack() as stack:
        games = await stack.client.delete(
            "/api/v1/user/lobby/games", headers={"X-User-ID": USER_ID}
        )
        probe = await stack.client.post("/healthz")
        one = await stack.client.put(f"/api/v1/user/lobby/games/{USER_ID}")
    assert games.status_code == 405
    assert games.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": "method DELETE is not allowed; use GET, POST",
        }
    }
    assert sorted(m.strip() for m in games.headers["allow"].split(",")) == ["GET", "POST"]
    assert probe.status_code == 405 and probe.headers["allow"] == "GET"
    assert one.status_code == 405
    assert sorted(m.strip() for m in one.headers["allow"].split(",")) == ["GET", "PATCH"]


async def test_literal_segments_win_over_parameters() -> None:
    notify = RecordingNotifyServicerDouble()
    async with edge_stack(auth=RecordingAuthServicerDouble(), notify=notify) as stack:
        dead = await stack.client.get("/api/v1/admin/notifications/dead-letters", auth=ADMIN_AUTH)
        malformed = await stack.client.get("/api/v1/admin/notifications/malformed", auth=ADMIN_AUTH)
        wrong = await stack.client.post("/api/v1/admin/notifications/dead-letters", auth=ADMIN_AUTH)
    assert dead.status_code == 200
    assert dead.json()["page"] == 1 and dead.json()["page_size"] == 50
    assert [name for name, _ in notify.calls] == ["AdminNotificationsListDeadLetters"]
    # Not a notification id (which would be a 400 for a malformed UUID): the base class answers.
    assert malformed.status_code == 501
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
