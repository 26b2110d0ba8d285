"""OpenAPI 3.0 schemas → compiled JSON Schema validators with client-safe messages.

OpenAPI 3.0 schema objects are a dialect of JSON Schema: `nullable: true`
instead of a `"null"` type, boolean `exclusiveMinimum`, `$ref` into
`components`. `to_json_schema` turns one into a self-contained JSON Schema
(references inlined), and `compile_validator` builds a Draft 2020-12 validator
that asserts the formats the contract relies on (`uuid`, `email`,
`date-time`).

Integers: docs/contracts.md maps every contract `integer` to `int32`, so an
integer without an explicit `int64` format is also bounded to the int32 range;
a value the services could not receive is rejected as `400`, never a `500`.

Date-times: accepted exactly as RFC 3339 `date-time` with an upper-case `T`
and `Z` (what `google.protobuf.Timestamp` parses), at most nine fractional
digits, years 0001–9999 after applying the offset. Leap seconds are rejected.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: OpenAPI keywords with no JSON Schema meaning (annotations) that are dropped.
_DROPPED_KEYWORDS = frozenset(
    {
        "nullable",
        "description",
        "example",
        "examples",
        "externalDocs",
        "xml",
        "discriminator",
        "readOnly",
        "writeOnly",
        "deprecated",
        "title",
    }
)

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_EMAIL_RE = re.compile(
    r"^[^@\s\"(),:;<>\[\\\]]{1,64}@"
    r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$"
)


def is_uuid(value: object) -> bool:
    """True for a canonical 8-4-4-4-12 hexadecimal UUID string."""
    return isinstance(value, str) and _UUID_RE.match(value) is not None


def is_email(value: object) -> bool:
    """True for a plain `local@domain.tld` address (no display names, no quoting)."""
    return isinstance(value, str) and _EMAIL_RE.match(value) is not None


def is_date_time(value: object) -> bool:
    """True for an RFC 3339 date-time that `google.protobuf.Timestamp` can hold."""
    if not isinstance(value, str):
        return False
    match = _DATE_TIME_RE.match(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        moment = dt.datetime(year, month, day, hour, minute, second)
        if match.group(8) != "Z":
            if int(match.group(10)) > 23 or int(match.group(11)) > 59:
                return False
            offset = dt.timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
            moment = moment - offset if match.group(9) == "+" else moment + offset
    except (ValueError, OverflowError):
        return False
    return True


def _strings_only(check: Callable[[object], bool]) -> Callable[[object], bool]:
    """A format applies to strings only; other types are the `type` keyword's business."""
    return lambda value: not isinstance(value, str) or check(value)


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("uuid")(_strings_only(is_uuid))
FORMAT_CHECKER.checks("email")(_strings_only(is_email))
FORMAT_CHECKER.checks("date-time")(_strings_only(is_date_time))

_FORMAT_MESSAGES = {
    "uuid": "must be a valid UUID",
    "email": "must be a valid e-mail address",
    "date-time": "must be an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)",
}


def to_json_schema(
    schema: dict[str, Any], components: dict[str, Any], _stack: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Convert one OpenAPI 3.0 schema object into a self-contained JSON Schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in _stack:
            raise ValueError(f"recursive schema {name!r} is not supported")
        return to_json_schema(components[name], components, (*_stack, name))

    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYWORDS:
            continue
        if key == "properties":
            out[key] = {
                name: to_json_schema(sub, components, _stack) for name, sub in value.items()
            }
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_json_schema(value, components, _stack)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub, components, _stack) for sub in value]
        elif key == "exclusiveMinimum" and isinstance(value, bool):
            if value and "minimum" in schema:
                out["exclusiveMinimum"] = schema["minimum"]
        elif key == "exclusiveMaximum" and isinstance(value, bool):
            if value and "maximum" in schema:
                out["exclusiveMaximum"] = schema["maximum"]
        else:
            out[key] = value
    if schema.get("exclusiveMinimum") is True:
        out.pop("minimum", None)
    if schema.get("exclusiveMaximum") is True:
        out.pop("maximum", None)

    if out.get("type") == "integer" and schema.get("format") != "int64":
        out["minimum"] = max(out.get("minimum", INT32_MIN), INT32_MIN)
        out["maximum"] = min(out.get("maximum", INT32_MAX), INT32_MAX)

    if schema.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def compile_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for an already converted JSON Schema, asserting the contract formats."""
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def _join(path: Iterable[Any], leaf: str | None = None) -> str:
    text = ""
    for token in path:
        if isinstance(token, int):
            text += f"[{token}]"
        else:
            text += f".{token}" if text else str(token)
    if leaf is not None:
        text += f".{leaf}" if text else leaf
    return text


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = ["null" if n == "null" else f"{'an' if n[0] in 'aeiou' else 'a'} {n}" for n in names]
    return " or ".join(words)


def describe(error: ValidationError, root: str) -> str:
    """A one-line, client-safe message naming the offending field: `field: what is wrong`."""
    value = error.validator_value
    instance = error.instance
    kind = error.validator
    where = _join(error.absolute_path)
    if kind == "required":
        missing = next((n for n in value if isinstance(instance, dict) and n not in instance), None)
        return f"{_join(error.absolute_path, missing)}: is required"
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set((error.schema or {}).get("properties", {}))
        extra = sorted(n for n in instance if n not in known)
        if extra:
            return f"{_join(error.absolute_path, extra[0])}: unknown field"
    where = where or root
    if kind == "type":
        return f"{where}: must be {_type_words(value)}"
    if kind == "enum":
        allowed = ", ".join("null" if v is None else str(v) for v in value)
        return f"{where}: must be one of {allowed}"
    if kind == "format":
        return f"{where}: {_FORMAT_MESSAGES.get(value, f'must be a valid {value}')}"
    if kind == "minimum":
        return f"{where}: must be >= {value}"
    if kind == "maximum":
        return f"{where}: must be <= {value}"
    if kind == "exclusiveMinimum":
        return f"{where}: must be > {value}"
    if kind == "exclusiveMaximum":
        return f"{where}: must be < {value}"
    if kind == "minLength":
        return f"{where}: must be at least {value} character{'s' if value != 1 else ''} long"
    if kind == "maxLength":
        return f"{where}: must be at most {value} character{'s' if value != 1 else ''} long"
    if kind == "minItems":
        return f"{where}: must hold at least {value} item{'s' if value != 1 else ''}"
    if kind == "maxItems":
        return f"{where}: must hold at most {value} item{'s' if value != 1 else ''}"
    if kind == "pattern":
        return f"{where}: must match {value}"
    return f"{where}: is invalid"


Checker = Callable[[Any], "str | None"]


_VALIDATORS: dict[str, Draft202012Validator] = {}


def _cached_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """One validator per distinct schema (parameters like `game_id` repeat across operations)."""
    key = json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = _VALIDATORS[key] = compile_validator(schema)
    return validator


#: Schemas whose valid values a plain predicate recognises: a value it accepts skips the
#: validator (on the edge, 86 of the contract's parameters are UUID strings, among them
#: `X-User-ID` on every user request); anything it does not accept still gets the
#: validator's own verdict and message.
_PLAIN_ACCEPT: dict[str, Callable[[Any], bool]] = {
    json.dumps({"format": "uuid", "type": "string"}, sort_keys=True): is_uuid,
    json.dumps({"type": "string"}, sort_keys=True): lambda value: isinstance(value, str),
}


def make_checker(schema: dict[str, Any], root: str) -> Checker:
    """Compile `schema` once; the returned function answers None or the first error message."""
    validator = _cached_validator(schema)
    accepts = _PLAIN_ACCEPT.get(json.dumps(schema, sort_keys=True))

    def check(instance: Any) -> str | None:
        if accepts is not None and accepts(instance):
            return None
        error = best_match(validator.iter_errors(instance))
        return None if error is None else describe(error, root)

    return check
