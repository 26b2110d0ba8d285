"""The protos mirror the REST contract (docs/contracts.md), checked on the generated descriptors.

For every operation of the project's contract (the edge's packaged
`galaxy-backend.openapi.yaml`, `galaxy_edge.spec.read_contract_text`) except the
edge's own probes: the owning service has the RPC named after the operationId,
its request message carries the caller, the path/query/header parameters and
the body in the documented order, its response type is named like the success
schema, and every message reachable from a body or response has exactly the
schema's properties with compatible types and presence.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml
from galaxy_edge.spec import read_contract_text
from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor

SPEC: dict[str, Any] = yaml.safe_load(read_contract_text())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
PARAMETERS: dict[str, Any] = SPEC["components"]["parameters"]

EDGE_OWN = {"getHealthz", "getReadyz"}
SERVICES = ["auth", "account", "lobby", "runtime", "mail", "notify", "geo"]
#: Route prefix -> owning service (docs/architecture.md, "Ownership").
OWNERSHIP = [
    ("/api/v1/public/auth/", "auth"),
    ("/api/v1/user/sessions", "auth"),
    ("/api/v1/internal/sessions/", "auth"),
    ("/api/v1/admin/admin-accounts", "auth"),
    ("/api/v1/user/account", "account"),
    ("/api/v1/admin/users", "account"),
    ("/api/v1/internal/users/", "account"),
    ("/api/v1/user/lobby/", "lobby"),
    ("/api/v1/admin/games", "lobby"),
    ("/api/v1/user/games/", "runtime"),
    ("/api/v1/admin/runtimes/", "runtime"),
    ("/api/v1/admin/engine-versions", "runtime"),
    ("/api/v1/admin/mail/", "mail"),
    ("/api/v1/admin/notifications", "notify"),
    ("/api/v1/admin/geo/", "geo"),
]
#: RPCs that the REST surface does not expose, per service.
INTERNAL_RPCS = {
    "auth": {"CheckAdminCredentials"},
    "account": {
        "EnsureAccountByEmail",
        "SyncDeclaredCountry",
        "GetAccountByEmail",
        "GetPermanentlyBlockedEmails",
        "ResolveUserIdentity",
    },
    "lobby": {"InternalGetActiveMember"},
    "runtime": {"StartRuntime", "StopRuntime", "PauseRuntime", "ResumeRuntime"},
    "mail": {"EnqueueDelivery", "EnqueueDeliveries"},
    "notify": {"SubscribePush"},
    "geo": {"ObserveClientAddress", "ObserveClientAddresses"},
}

TIMESTAMP = "google.protobuf.Timestamp"
STRUCT = "google.protobuf.Struct"
#: A free-form body carried verbatim as JSON text (numbers never become doubles).
RAW_JSON = "galaxy.common.v1.RawJson"
FREE_FORM = (STRUCT, RAW_JSON)
EMPTY = "google.protobuf.Empty"
SCALAR_KINDS = {
    "string": FieldDescriptor.TYPE_STRING,
    "integer": FieldDescriptor.TYPE_INT32,
    "number": FieldDescriptor.TYPE_DOUBLE,
    "boolean": FieldDescriptor.TYPE_BOOL,
}

KIND_NAMES = {kind: name for name, kind in {
    "string": FieldDescriptor.TYPE_STRING,
    "int32": FieldDescriptor.TYPE_INT32,
    "int64": FieldDescriptor.TYPE_INT64,
    "double": FieldDescriptor.TYPE_DOUBLE,
    "float": FieldDescriptor.TYPE_FLOAT,
    "bool": FieldDescriptor.TYPE_BOOL,
    "bytes": FieldDescriptor.TYPE_BYTES,
    "enum": FieldDescriptor.TYPE_ENUM,
}.items()}


def _service(name: str) -> ServiceDescriptor:
    module = importlib.import_module(f"galaxy.{name}.v1.{name}_pb2")
    importlib.import_module(f"galaxy.{name}.v1.{name}_pb2_grpc")
    return module.DESCRIPTOR.services_by_name[f"{name.capitalize()}Service"]


def _owner(path: str) -> str:
    for prefix, service in OWNERSHIP:
        if path.startswith(prefix):
            return service
    raise AssertionError(f"no owner for {path}")


def _operations() -> list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method == "parameters" or op["operationId"] in EDGE_OWN:
                continue
            params = [
                PARAMETERS[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                for p in item.get("parameters", []) + op.get("parameters", [])
            ]
            found.append((method.upper(), path, op, params))
    return found


OPERATIONS = _operations()


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _resolve(name: str) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of a named schema; allOf parts are merged."""
    schema = SCHEMAS[name]
    if "allOf" in schema:
        props: dict[str, Any] = {}
        required: set[str] = set()
        for part in schema["allOf"]:
            if _ref(part):
                p, r = _resolve(_ref(part))
            else:
                p, r = part.get("properties", {}), set(part.get("required", []))
            props.update(p)
            required |= r
        return props, required
    return schema.get("properties", {}), set(schema.get("required", []))


def _free_form(schema: dict[str, Any]) -> bool:
    name = _ref(schema)
    if name:
        schema = SCHEMAS[name]
    return schema.get("type") == "object" and "allOf" not in schema and not schema.get("properties")


def _type_name(field: FieldDescriptor) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return field.message_type.full_name
    return KIND_NAMES.get(field.type, f"type {field.type}")


def _is_message(field: FieldDescriptor, full_name: str) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.full_name == full_name


def _check_value(
    where: str, field: FieldDescriptor, schema: dict[str, Any], package: str, todo: list
) -> None:
    """Assert that one (non-repeated) field value is compatible with a property schema."""
    name = _ref(schema)
    if _free_form(schema):
        assert any(_is_message(field, name) for name in FREE_FORM), (
            f"{where}: free-form object must be one of {FREE_FORM}, got {_type_name(field)}"
        )
        return
    if name:
        assert field.type == FieldDescriptor.TYPE_MESSAGE, f"{where}: must be message {name}"
        assert field.message_type.full_name == f"{package}.{name}", (
            f"{where}: must be message {package}.{name}, got {field.message_type.full_name}"
        )
        todo.append((where, name, field.message_type))
        return
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date-time":
        assert _is_message(field, TIMESTAMP), (
            f"{where}: date-time must be {TIMESTAMP}"
        )
        return
    assert kind in SCALAR_KINDS, f"{where}: unexpected schema type {kind!r}"
    assert field.type == SCALAR_KINDS[kind], (
        f"{where}: {kind} must be {KIND_NAMES[SCALAR_KINDS[kind]]}, got {_type_name(field)}"
    )


def _check_message(
    where: str, schema_name: str, message: Descriptor, package: str, seen: set[str]
) -> None:
    """Assert a message has exactly the schema's properties, recursing into referenced schemas."""
    todo: list[tuple[str, str, Descriptor]] = [(where, schema_name, message)]
    while todo:
        at, name, desc = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        props, required = _resolve(name)
        assert desc.name == name, f"{at}: message must be named {name}, got {desc.name}"
        fields = desc.fields_by_name
        extra = sorted(set(fields) - set(props))
        assert not extra, f"{at} ({name}): fields not in the schema: {extra}"
        for prop, schema in props.items():
            spot = f"{at} ({name}).{prop}"
            assert prop in fields, f"{spot}: no such field in message {desc.full_name}"
            field = fields[prop]
            if schema.get("type") == "array":
                assert field.is_repeated, f"{spot}: array must be a repeated field"
                _check_value(spot + "[]", field, schema["items"], package, todo)
                continue
            assert not field.is_repeated, f"{spot}: must not be repeated"
            _check_value(spot, field, schema, package, todo)
            if field.type != FieldDescriptor.TYPE_MESSAGE:
                optional = prop not in required or bool(schema.get("nullable"))
                assert field.has_presence == optional, (
                    f"{spot}: must {'' if optional else 'not '}be `optional` "
                    f"(required={prop in required}, nullable={bool(schema.get('nullable'))})"
                )


def _rpc_name(operation_id: str) -> str:
    return operation_id[0].upper() + operation_id[1:]


def test_spec_is_the_expected_one() -> None:
    assert len(OPERATIONS) + len(EDGE_OWN) == 78


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_exactly_the_owned_rpcs(service: str) -> None:
    expected = {
        _rpc_name(op["operationId"]) for _, path, op, _ in OPERATIONS if _owner(path) == service
    }
    actual = set(_service(service).methods_by_name)
    missing = sorted(expected - actual)
    extra = sorted(actual - expected - INTERNAL_RPCS[service])
    assert not missing, f"{service}: RPCs missing for operations {missing}"
    assert not extra, f"{service}: RPCs neither REST-backed nor declared internal: {extra}"
    assert not (INTERNAL_RPCS[service] - actual), f"{service}: internal RPCs missing"


@pytest.mark.parametrize(
    ("method", "path", "op", "params"),
    OPERATIONS,
    ids=[op["operationId"] for _, _, op, _ in OPERATIONS],
)
def test_operation_is_mirrored(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    operation_id = op["operationId"]
    service = _owner(path)
    package = f"galaxy.{service}.v1"
    rpc_name = _rpc_name(operation_id)
    methods = _service(service).methods_by_name
    assert rpc_name in methods, (
        f"{operation_id}: {package}.{service.capitalize()}Service has no rpc {rpc_name}"
    )
    rpc = methods[rpc_name]
    assert not rpc.client_streaming and not rpc.server_streaming, f"{operation_id}: must be unary"
    request = rpc.input_type
    assert request.full_name.startswith(package + "."), (
        f"{operation_id}: request type outside {package}"
    )

    # Request: caller, path params, query params, headers, body, in this order, nothing else.
    expected: list[tuple[str, Any]] = []
    if path.startswith("/api/v1/user/"):
        expected.append(("user_id", FieldDescriptor.TYPE_STRING))
    elif path.startswith("/api/v1/admin/"):
        expected.append(("admin_username", FieldDescriptor.TYPE_STRING))
    for where in ("path", "query", "header"):
        for p in params:
            if p["in"] == where and p["name"] != "X-User-ID":
                field_name = p["name"].lower().replace("-", "_")
                expected.append((field_name, SCALAR_KINDS[p["schema"]["type"]]))
    body_schema = None
    if "requestBody" in op:
        body_schema = op["requestBody"]["content"]["application/json"]["schema"]
        body_type = STRUCT if _free_form(body_schema) else f"{package}.{_ref(body_schema)}"
        expected.append(("body", body_type))
    actual = [f.name for f in request.fields]
    assert actual == [name for name, _ in expected], (
        f"{operation_id}: {request.name} fields must be {[n for n, _ in expected]} "
        f"in this order, got {actual}"
    )
    for name, kind in expected:
        field = request.fields_by_name[name]
        assert not field.is_repeated, f"{operation_id}: {request.name}.{name} must not be repeated"
        if kind == STRUCT:
            assert any(_is_message(field, name) for name in FREE_FORM), (
                f"{operation_id}: {request.name}.{name} must be one of {FREE_FORM}"
            )
        elif isinstance(kind, str):
            assert _is_message(field, kind), (
                f"{operation_id}: {request.name}.{name} must be {kind}"
            )
        else:
            assert field.type == kind, (
                f"{operation_id}: {request.name}.{name} must be {KIND_NAMES[kind]}, "
                f"got {_type_name(field)}"
            )
    seen: set[str] = set()
    if body_schema is not None and not _free_form(body_schema):
        body = request.fields_by_name["body"].message_type
        _check_message(f"{operation_id} body", _ref(body_schema), body, package, seen)

    # Response.
    status = next(code for code in op["responses"] if code.startswith("2"))
    response = rpc.output_type
    if status == "204":
        assert response.full_name == EMPTY, (
            f"{operation_id}: 204 must return {EMPTY}, got {response.full_name}"
        )
        return
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    if _free_form(schema):
        assert response.full_name in FREE_FORM, (
            f"{operation_id}: free-form response must be one of {FREE_FORM}, got {response.full_name}"
        )
        return
    name = _ref(schema)
    assert response.full_name == f"{package}.{name}", (
        f"{operation_id}: response must be {package}.{name}, got {response.full_name}"
    )
    _check_message(f"{operation_id} response", name, response, package, seen)


def _fields(message: Descriptor) -> dict[str, str]:
    return {f.name: _type_name(f) for f in message.fields}


def test_internal_rpc_shapes() -> None:
    """The internal RPCs other services and the edge are written against."""
    shapes = {
        ("auth", "CheckAdminCredentials"): (
            {"username", "password", "client_address"},
            "AdminPrincipal",
            {"username"},
        ),
        ("account", "EnsureAccountByEmail"): (
            {"email", "preferred_language", "time_zone"},
            "EnsureAccountByEmailResponse",
            {"outcome", "user_id", "block_reason_code"},
        ),
        ("account", "SyncDeclaredCountry"): (
            {"user_id", "declared_country"},
            "SyncDeclaredCountryResponse",
            {"user_id", "declared_country", "updated_at"},
        ),
        ("account", "GetAccountByEmail"): ({"email"}, "AccountResponse", None),
        ("account", "GetPermanentlyBlockedEmails"): (
            {"emails"},
            "GetPermanentlyBlockedEmailsResponse",
            {"blocked_emails"},
        ),
        ("account", "ResolveUserIdentity"): (
            {"user_id"},
            "ResolveUserIdentityResponse",
            {"status"},
        ),
        ("mail", "EnqueueDelivery"): (
            {"idempotency_key", "template_id", "recipient", "locale", "variables"},
            "EnqueueDeliveryResponse",
            {"delivery_id", "created"},
        ),
        ("mail", "EnqueueDeliveries"): ({"deliveries"}, "EnqueueDeliveriesResponse", {"results"}),
        ("runtime", "StartRuntime"): (
            {"game_id", "engine_version", "roster", "turn_schedule", "seed"},
            "RuntimeOperation",
            None,
        ),
        ("runtime", "StopRuntime"): ({"game_id", "reason"}, "RuntimeOperation", None),
        ("runtime", "PauseRuntime"): ({"game_id"}, "RuntimeOperation", None),
        ("runtime", "ResumeRuntime"): ({"game_id"}, "RuntimeOperation", None),
        ("notify", "SubscribePush"): (
            {"consumer_id", "last_event_id"},
            "PushEvent",
            {"event_id", "user_id", "kind", "occurred_at", "payload"},
        ),
        ("geo", "ObserveClientAddress"): ({"user_id", "client_address"}, "Empty", set()),
        ("geo", "ObserveClientAddresses"): (
            {"observations"},
            "ObserveClientAddressesResponse",
            {"counted", "unresolved", "rejected"},
        ),
    }
    for (service, rpc_name), (req_fields, resp_name, resp_fields) in shapes.items():
        rpc = _service(service).methods_by_name[rpc_name]
        where = f"{service}.{rpc_name}"
        assert set(rpc.input_type.fields_by_name) == req_fields, f"{where} request fields"
        assert rpc.output_type.name == resp_name, f"{service}.{rpc_name} response type"
        if resp_fields is not None:
            assert set(rpc.output_type.fields_by_name) == resp_fields, f"{where} response fields"
    assert _service("notify").methods_by_name["SubscribePush"].server_streaming
    roster = _service("runtime").methods_by_name["StartRuntime"].input_type.fields_by_name["roster"]
    assert roster.is_repeated
    assert set(roster.message_type.fields_by_name) == {"user_id", "race_name"}
    enqueue = _service("mail").methods_by_name["EnqueueDelivery"]
    variables = enqueue.input_type.fields_by_name["variables"]
    assert variables.message_type.GetOptions().map_entry, "EnqueueDelivery.variables must be a map"
    push_event = _service("notify").methods_by_name["SubscribePush"].output_type
    push_payload = push_event.fields_by_name["payload"]
    assert push_payload.message_type.full_name == STRUCT
    assert enqueue.output_type.fields_by_name["created"].type == FieldDescriptor.TYPE_BOOL


def test_events_and_push_stream() -> None:
    from galaxy.edge.v1 import push_pb2
    from galaxy.events.v1 import account_pb2, envelope_pb2, notify_pb2, runtime_pb2

    assert _fields(envelope_pb2.EventEnvelope.DESCRIPTOR).keys() == {
        "event_id", "event_type", "occurred_at", "producer", "payload",
    }
    assert _fields(envelope_pb2.EventEnvelope.DESCRIPTOR)["payload"] == "google.protobuf.Any"
    assert _fields(account_pb2.AccountLifecycleEvent.DESCRIPTOR).keys() == {
        "user_id", "kind", "actor_type", "actor_id", "reason_code", "occurred_at",
    }
    assert _fields(runtime_pb2.RuntimeStatusEvent.DESCRIPTOR).keys() == {
        "game_id", "status", "engine_health", "current_turn", "occurred_at", "message",
    }
    assert _fields(notify_pb2.NotificationIntent.DESCRIPTOR).keys() == {
        "intent_id", "user_id", "kind", "params", "occurred_at", "source", "params_json",
    }
    # params_json carries the params with exact numbers; params (Struct) is read for older records.
    assert _fields(notify_pb2.NotificationIntent.DESCRIPTOR)["params"] == STRUCT
    assert _fields(notify_pb2.NotificationIntent.DESCRIPTOR)["params_json"] == "galaxy.common.v1.RawJson"
    subscribe = push_pb2.DESCRIPTOR.services_by_name["PushService"].methods_by_name["Subscribe"]
    assert subscribe.server_streaming
    # last_event_id: the gateway resumes after the last event it saw (docs/notify.md, "Push").
    assert set(subscribe.input_type.fields_by_name) == {"gateway_id", "last_event_id"}
    assert subscribe.output_type.full_name == "galaxy.notify.v1.PushEvent"
