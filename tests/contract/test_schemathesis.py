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

While account does not implement `ResolveUserIdentity` the edge trusts the
header; once it does, an unknown user answers the documented
`400 invalid_request` on every user route, which these checks accept.
Bounded: a handful of examples per operation, no coverage or stateful phase,
so both runs together take well under three minutes.
"""

from __future__ import annotations

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

#: Examples per operation and mode; 78 operations.
MAX_EXAMPLES = 12
ADMIN_SECURITY = "AdminBasicAuth"
USER_SECURITY = "UserHeader"
REQUEST_TIMEOUT_SECONDS = 30

CONTRACT = load_contract().document


def _config(mode: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {"mode": mode, "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            "request-timeout": REQUEST_TIMEOUT_SECONDS,
            # Every operation documents 501: what a service answers for an RPC it has not
            # built yet. Any other 5xx is a failure.
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
        }
    )


positive = schemathesis.openapi.from_dict(CONTRACT, config=_config("positive"))
negative = schemathesis.openapi.from_dict(CONTRACT, config=_config("negative"))

def not_implemented_is_the_envelope(ctx, response, case):  # type: ignore[no-untyped-def]
    """A 501 is the documented `not_implemented` envelope, nothing else."""
    if response.status_code == 501:
        body = response.json()
        assert body["error"]["code"] == "not_implemented", body


VALID_CHECKS = [
    not_a_server_error,
    not_implemented_is_the_envelope,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
INVALID_CHECKS = [
    not_a_server_error,
    not_implemented_is_the_envelope,
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
    return str(uuid.uuid4())


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
