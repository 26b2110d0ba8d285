"""The whole suite boots and the edge behaves as a gateway relies on, driven over HTTP only.

Every service and the edge run as real processes (the session's `suite`
fixture), against a real PostgreSQL and a real Kafka-protocol broker.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import yaml
from galaxy_edge.spec import read_contract_text

pytestmark = pytest.mark.suite

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
EXPECTED_OPERATIONS = 78
UNKNOWN_ROUTE_MESSAGE = "no route matches the request path"
READY_TIMEOUT_SECONDS = 60.0


def spec_document() -> dict:
    """The project's contract: the file the edge packages and serves."""
    return yaml.safe_load(read_contract_text())


def operations_of(document: dict) -> set[tuple[str, str, str]]:
    return {
        (method.upper(), path, op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"].get("message"), str), body
    return body["error"]



@pytest.fixture(scope="module")
def user_headers() -> dict[str, str]:
    return {"X-User-ID": str(uuid.uuid4())}


def test_healthz_answers_ok(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_ready_when_every_service_serves(http):
    response = http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}


def test_openapi_serves_every_operation_of_the_contract(http):
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = operations_of(response.json())
    expected = operations_of(spec_document())
    assert len(expected) == EXPECTED_OPERATIONS
    assert served == expected, {
        "missing": sorted(expected - served),
        "unexpected": sorted(served - expected),
    }


def _concrete_path(path: str) -> str:
    """The template with every parameter filled by a value of the right shape."""
    values = {"turn": "1", "username": "someone", "id": "some-engine-version"}
    for name in ("game_id", "application_id", "invite_id", "membership_id", "notification_id",
                 "delivery_id", "user_id", "device_session_id"):
        values[name] = str(uuid.uuid4())
    return path.format(**values)


def _expected_without_a_caller(path: str) -> tuple[int, str] | None:
    """What an operation answers to a request without credentials, if the edge decides it."""
    if path.startswith("/api/v1/admin/"):
        return 401, "unauthorized"
    if path.startswith("/api/v1/user/"):
        return 400, "invalid_request"  # X-User-ID is required (contract decision 5)
    return None


def test_every_contract_operation_is_routed(http):
    """Every operation reaches its handler: the exact refusal, or a documented non-5xx status.

    Without credentials an admin route is a 401 challenge and a user route a
    400 (no `X-User-ID`); the public and internal routes (auth's and
    account's, both built) answer a status their operation documents, never a
    5xx — not even 501, since nothing they route to is unbuilt.
    """
    document = spec_document()
    wrong = []
    for method, path, operation_id in sorted(operations_of(document)):
        response = http.request(method, _concrete_path(path))
        documented = {int(s) for s in document["paths"][path][method.lower()]["responses"]}
        expected = _expected_without_a_caller(path)
        if expected is not None:
            ok = (response.status_code, _envelope_code(response)) == expected
        else:
            ok = response.status_code in documented and response.status_code < 500
            if response.status_code >= 400:
                ok = ok and _envelope_code(response) is not None
            ok = ok and UNKNOWN_ROUTE_MESSAGE not in response.text
        if not ok:
            wrong.append((operation_id, method, path, response.status_code, response.text[:200]))
    assert wrong == []


def _envelope_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or set(body) != {"error"}:
        return None
    return body["error"].get("code")


def test_unknown_body_field_is_invalid_request(http, user_headers):
    response = http.patch(
        "/api/v1/user/account/profile", headers=user_headers, json={"no_such_field": "x"}
    )
    error = assert_envelope(response, 400, "invalid_request")
    assert "no_such_field" in error["message"]


def test_malformed_uuid_in_path_is_invalid_request(http, user_headers):
    response = http.get("/api/v1/user/lobby/games/not-a-uuid", headers=user_headers)
    error = assert_envelope(response, 400, "invalid_request")
    assert "game_id" in error["message"]


def test_malformed_user_id_header_is_invalid_request(http):
    response = http.get("/api/v1/user/lobby/games", headers={"X-User-ID": "not-a-uuid"})
    error = assert_envelope(response, 400, "invalid_request")
    assert "X-User-ID" in error["message"]


def test_page_size_zero_is_invalid_request(http, user_headers):
    response = http.get("/api/v1/user/lobby/games", headers=user_headers, params={"page_size": 0})
    error = assert_envelope(response, 400, "invalid_request")
    assert "page_size" in error["message"]


def test_admin_route_without_credentials_is_challenged(http):
    response = http.get("/api/v1/admin/users")
    assert_envelope(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Basic realm="galaxy-admin"'


def test_admin_route_with_a_wrong_password_is_refused(http, suite):
    username, password = suite.admin_auth
    response = http.get("/api/v1/admin/users", auth=(username, password + "-wrong"))
    assert_envelope(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Basic realm="galaxy-admin"'


def test_admin_route_with_the_configured_admin_passes_authentication(http, suite):
    response = http.get("/api/v1/admin/admin-accounts", auth=suite.admin_auth)
    assert response.status_code == 200, response.text
    assert suite.admin_auth[0] in [item["username"] for item in response.json()["items"]]


def test_unknown_path_is_a_404_envelope(http):
    assert_envelope(http.get("/api/v1/no/such/route"), 404, "not_found")


def test_wrong_method_is_a_405_with_allow(http):
    response = http.delete("/healthz")
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    response = http.put("/api/v1/admin/games")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}


def _wait_for_readyz(http: httpx.Client, status: int, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.mark.local_processes  # stops and starts geo
def test_readyz_follows_a_stopped_service(http, suite):
    """Runs last in this module: it stops geo and starts it again."""
    assert http.get("/readyz").status_code == 200
    exit_code = suite.stack.stop_process("geo")
    try:
        assert exit_code == 0, f"geo exited {exit_code} on SIGTERM"
        response = _wait_for_readyz(http, 503, READY_TIMEOUT_SECONDS)
        error = assert_envelope(response, 503, "service_unavailable")
        assert "geo" in error["message"]
        # Liveness does not depend on downstreams.
        assert http.get("/healthz").status_code == 200
    finally:
        if not suite.stack.running("geo"):
            suite.stack.start_process("geo")
    response = _wait_for_readyz(http, 200, READY_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}
