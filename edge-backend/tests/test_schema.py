"""OpenAPI 3.0 → JSON Schema conversion, the contract's formats, and the field-naming messages."""

from __future__ import annotations

import pytest
from galaxy_edge.schema import (
    INT32_MAX,
    INT32_MIN,
    is_date_time,
    is_email,
    is_uuid,
    make_checker,
    to_json_schema,
)
from galaxy_edge.spec import load_contract
from google.protobuf.timestamp_pb2 import Timestamp

COMPONENTS = {
    "Actor": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
    }
}


def check(schema, instance):
    return make_checker(to_json_schema(schema, COMPONENTS), "body")(instance)


def test_nullable_admits_null_and_keeps_the_type() -> None:
    schema = {"type": "string", "format": "date-time", "nullable": True, "description": "x"}
    assert to_json_schema(schema, {}) == {"type": ["string", "null"], "format": "date-time"}
    assert check(schema, None) is None
    assert check(schema, 3) == "body: must be a string or null"


def test_nullable_enums_admit_null() -> None:
    schema = {"type": "string", "enum": ["a"], "nullable": True}
    assert check(schema, None) is None
    assert check(schema, "b") == "body: must be one of a, null"


def test_integers_are_bounded_to_int32() -> None:
    converted = to_json_schema({"type": "integer", "minimum": 1}, {})
    assert (converted["minimum"], converted["maximum"]) == (1, INT32_MAX)
    assert to_json_schema({"type": "integer"}, {})["minimum"] == INT32_MIN
    assert "maximum" not in to_json_schema({"type": "integer", "format": "int64"}, {})


def test_references_are_inlined() -> None:
    schema = {"type": "object", "properties": {"actor": {"$ref": "#/components/schemas/Actor"}}}
    assert check(schema, {"actor": {}}) == "actor.type: is required"
    assert check(schema, {"actor": {"type": "admin", "x": 1}}) == "actor.x: unknown field"


def test_openapi_boolean_exclusive_minimum_becomes_numeric() -> None:
    converted = to_json_schema({"type": "number", "minimum": 0, "exclusiveMinimum": True}, {})
    assert converted == {"type": "number", "exclusiveMinimum": 0}
    assert (
        check({"type": "number", "minimum": 0, "exclusiveMinimum": True}, 0) == "body: must be > 0"
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31T12:00:00Z",
        "2026-01-31T12:00:00.123456789Z",
        "2026-01-31T12:00:00+05:30",
        "2024-02-29T23:59:59-00:00",
    ],
)
def test_date_times_the_contract_accepts_are_what_protobuf_timestamps_parse(value) -> None:
    assert is_date_time(value)
    Timestamp().FromJsonString(value)  # must not raise: the edge would answer 500


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31",
        "2026-01-31 12:00:00Z",
        "2026-01-31t12:00:00z",
        "2026-01-31T12:00:00",
        "2026-02-30T12:00:00Z",
        "2026-01-31T24:00:00Z",
        "2026-01-31T23:59:60Z",
        "2026-01-31T12:00:00.1234567890Z",
        "2026-01-31T12:00:00+24:00",
        "0001-01-01T00:00:00+01:00",
        "yesterday",
    ],
)
def test_malformed_date_times_are_rejected(value) -> None:
    assert not is_date_time(value)


def test_uuid_and_email_formats() -> None:
    assert is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert is_uuid("3FA85F64-5717-4562-B3FC-2C963F66AFA6")
    assert not is_uuid("3fa85f645717-4562-b3fc-2c963f66afa6")
    assert not is_uuid("{3fa85f64-5717-4562-b3fc-2c963f66afa6}")
    assert not is_uuid("urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert is_email("pilot+1@mail.example.com")
    assert not is_email("pilot@localhost")
    assert not is_email("pilot")
    assert not is_email("Pilot <pilot@example.com>")


def test_every_request_schema_of_the_contract_compiles() -> None:
    contract = load_contract()
    components = contract.document["components"]["schemas"]
    compiled = 0
    for op in contract.operations:
        if op.body_schema is not None:
            make_checker(to_json_schema(op.body_schema, components), "body")
            compiled += 1
        for parameter in op.parameters:
            make_checker(to_json_schema(parameter.schema, components), parameter.name)
    assert compiled == 21  # operations.tsv: 21 operations take a body


def test_lobby_game_detail_is_one_object_with_the_union_of_both_parts() -> None:
    """contract decision 3: the allOf of two closed objects is unsatisfiable; the union is not."""
    import yaml
    from edge_doubles import lobby_game_detail
    from galaxy_edge.routing import reply_to_json
    from galaxy_edge.spec import read_contract_text

    game = reply_to_json(lobby_game_detail())
    merged = load_contract().document["components"]["schemas"]
    assert make_checker(to_json_schema(merged["LobbyGameDetail"], merged), "body")(game) is None
    assert make_checker(to_json_schema(merged["LobbyGameDetail"], merged), "body")(
        {**game, "x": 1}
    ) == ("x: unknown field")
    raw = yaml.safe_load(read_contract_text())["components"]["schemas"]
    assert make_checker(to_json_schema(raw["LobbyGameDetail"], raw), "body")(game) is not None


@pytest.mark.parametrize("schema", [{"type": "string", "format": "uuid"}, {"type": "string"}])
def test_a_plainly_accepted_value_gets_the_validators_verdict(schema) -> None:
    """The checker's shortcut for UUID and plain string parameters never accepts what the
    validator refuses, and a refused value still gets the validator's message."""
    from galaxy_edge.schema import _cached_validator, make_checker

    check = make_checker(schema, "X-User-ID")
    validator = _cached_validator(schema)
    values = [
        "3fa85f64-5717-4562-b3fc-2c963f66afa6", "3FA85F64-5717-4562-B3FC-2C963F66AFA6",
        "{3fa85f64-5717-4562-b3fc-2c963f66afa6}", "3fa85f6457174562b3fc2c963f66afa6",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6\n", "", "x", 7, None, ["a"],
    ]
    for value in values:
        message = check(value)
        assert (message is None) == validator.is_valid(value), value
        if message is not None:
            assert message.startswith("X-User-ID")
