"""The running edge against its OpenAPI contract, fuzzed with schemathesis.

The schema is the contract exactly as the edge serves it at `/openapi.json`
(the packaged contract file plus the corrections of docs/contracts.md, `galaxy_edge.spec`);
`test_the_fuzzed_contract_is_the_served_one` proves the two are the same
document. Requests go over HTTP to the edge of the session's `suite` (every
service a real process).

* Valid requests (schemathesis' positive mode), with the administrator's Basic
  credentials on admin routes and a well-formed `X-User-ID` (a random UUID) on
  user routes: never a 5xx but the documented `501 not_implemented` of an
  operation whose service has not built it yet, every status documented for the operation, the
  documented content type, a body that matches the documented schema.
* Invalid requests (negative mode; credentials still valid, unless the case
  negates them on purpose): never a 5xx, rejected with a 4xx, and still the
  documented envelope.

The `X-User-ID` is a user account does not know, so every user route answers
the documented `400 invalid_request` once the request is valid (the edge
refuses it before the owning service).

Every error answer, of either mode, must be the envelope
(`errors_are_the_envelope`), including malformed HTTP that never reaches the
app: the edge's HTTP protocol answers what its parser cannot frame (a
`Content-Length: COM1`, say) with `400 invalid_request` in the envelope
(galaxy_edge.http, docs/contracts.md "Malformed HTTP").

Reproducible: under `make test` the cases are fixed (`CI_SEED`, hypothesis
derandomized, a handful of examples per operation, no coverage or stateful
phase), so a landing never fails on a case no earlier run drew; both runs
together take well under three minutes. `make fuzz` (GALAXY_FUZZ=1) draws new
cases from a fresh or given seed (GALAXY_FUZZ_SEED), with GALAXY_FUZZ_EXAMPLES
examples per operation and schemathesis' coverage phase, and prints the seed
to replay a failure with (tests/contract/conftest.py).
"""

from __future__ import annotations

import os
import random
import uuid

import pytest
import requests
import schemathesis
from galaxy_edge.spec import load_contract
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.contract

#: The fixed seed of the CI run; `make fuzz` draws a fresh one unless GALAXY_FUZZ_SEED is set.
CI_SEED = 20261129
#: Examples per operation and mode (78 operations): CI, and the default of `make fuzz`.
CI_EXAMPLES = 12
FUZZ_EXAMPLES = 100
FUZZ = os.environ.get("GALAXY_FUZZ", "") == "1"
SEED = int(os.environ.get("GALAXY_FUZZ_SEED") or (random.getrandbits(63) if FUZZ else CI_SEED))
MAX_EXAMPLES = int(os.environ.get("GALAXY_FUZZ_EXAMPLES") or 0) or (
    FUZZ_EXAMPLES if FUZZ else CI_EXAMPLES
)
ADMIN_SECURITY = "AdminBasicAuth"
USER_SECURITY = "UserHeader"
REQUEST_TIMEOUT_SECONDS = 30

CONTRACT = load_contract().document


def _config(mode: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": mode,
                "max-examples": MAX_EXAMPLES,
                "database": "none",
                "deterministic": not FUZZ,
            },
            "phases": {"coverage": {"enabled": FUZZ}, "stateful": {"enabled": False}},
            "request-timeout": REQUEST_TIMEOUT_SECONDS,
            # Every operation documents 501: what a service answers for an RPC it has not
            # built yet. Any other 5xx is a failure.
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
        }
    )


positive = schemathesis.openapi.from_dict(CONTRACT, config=_config("positive"))
#: The probes take no input at all, so there is nothing to negate (schemathesis would skip them).
NO_INPUT = ["getHealthz", "getReadyz"]
negative = schemathesis.openapi.from_dict(CONTRACT, config=_config("negative")).exclude(
    operation_id=NO_INPUT
)

ENVELOPE_CODES = {
    400: {"invalid_request"},
    401: {"unauthorized"},
    403: {"forbidden"},
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"conflict"},
    500: {"internal_error"},
    501: {"not_implemented"},
    503: {"service_unavailable"},
}


def errors_are_the_envelope(ctx, response, case):  # type: ignore[no-untyped-def]
    """Every 4xx/5xx, documented or not, is `{"error": {code, message}}` with the status's code.

    Malformed HTTP included: the edge answers what its parser cannot frame in
    the envelope too (galaxy_edge.http), so no status escapes this check.
    """
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        response.status_code,
        response.headers,
    )
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] in ENVELOPE_CODES.get(response.status_code, set()), (
        response.status_code,
        body,
    )


VALID_CHECKS = [
    not_a_server_error,
    errors_are_the_envelope,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
INVALID_CHECKS = [
    not_a_server_error,
    errors_are_the_envelope,
    negative_data_rejection,
    content_type_conformance,
    response_schema_conformance,
]


def _security(case) -> set[str]:  # type: ignore[no-untyped-def]
    definition = case.operation.definition.raw
    requirements = definition.get("security", CONTRACT.get("security", []))
    return {name for requirement in requirements for name in requirement}


@pytest.fixture(scope="module")
def user_id() -> str:
    """A user account does not know, the same for a given seed."""
    return str(uuid.UUID(int=random.Random(SEED).getrandbits(128), version=4))


@pytest.fixture(scope="module")
def http(suite) -> requests.Session:
    with requests.Session() as session:
        yield session


def test_the_fuzzed_contract_is_the_served_one(suite, http):
    response = http.get(f"{suite.edge_url}/openapi.json", timeout=REQUEST_TIMEOUT_SECONDS)
    assert response.status_code == 200
    assert response.json() == CONTRACT


def _spare_the_suite_admin(case, suite) -> None:  # type: ignore[no-untyped-def]
    """Never disable or re-password the administrator the rest of the session signs in with."""
    username = suite.admin_auth[0]
    if case.path_parameters and case.path_parameters.get("username") == username:
        case.path_parameters["username"] = f"fuzzed-{uuid.uuid4().hex[:8]}"


@positive.parametrize()
def test_valid_requests_conform_to_the_contract(case, suite, http, user_id):
    _spare_the_suite_admin(case, suite)
    security = _security(case)
    headers = {"X-User-ID": user_id} if USER_SECURITY in security else None
    auth = suite.admin_auth if ADMIN_SECURITY in security else None
    case.call_and_validate(
        base_url=suite.edge_url, session=http, headers=headers, auth=auth, checks=VALID_CHECKS
    )


@negative.parametrize()
def test_invalid_requests_are_rejected_with_the_envelope(case, suite, http):
    _spare_the_suite_admin(case, suite)
    security = _security(case)
    negated = case.operation.schema.is_security_param_negated(case)
    auth = suite.admin_auth if ADMIN_SECURITY in security and not negated else None
    case.call_and_validate(base_url=suite.edge_url, session=http, auth=auth, checks=INVALID_CHECKS)
