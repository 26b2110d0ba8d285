"""Request validation to the contract, compiled once per operation at start-up.

Checked, in this order, each failure a `400 invalid_request` naming the field:
path parameters, query parameters (integers parsed, contract defaults filled
in, unknown ones ignored, a repeated one rejected), declared headers, then the
JSON body (content type, size limit, well-formed JSON, the body schema with
unknown fields rejected where the schema is closed).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from galaxy_edge.errors import invalid
from galaxy_edge.schema import INT32_MAX, Checker, make_checker, to_json_schema
from galaxy_edge.spec import Operation, Parameter

DEFAULT_MAX_BODY_BYTES = 1024 * 1024

#: Declared headers that travel to the service as request fields (docs/contracts.md rule 2).
HEADER_FIELDS = {"accept-language": "accept_language"}

_INTEGER_RE = re.compile(r"^[+-]?\d+$")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class ParamCheck:
    """One compiled parameter check."""

    name: str
    header_key: str  # lower-cased name, for header lookup
    location: str
    field: str | None  # request field it fills, None when it is not forwarded as a field
    required: bool
    kind: str
    default: Any
    canonical_uuid: bool
    check: Checker
    # A query integer the contract leaves unbounded above (`page`) is valid however
    # large; past the int32 the services take, it means "past the end" all the same.
    saturates: bool = False

    def convert(self, raw: str) -> Any:
        """The typed value of a raw string parameter (raises `invalid`)."""
        if self.kind == "integer":
            if not _INTEGER_RE.match(raw):
                raise invalid(f"{self.name}: must be an integer")
            digits = raw.lstrip("+-").lstrip("0")
            if len(digits) > 18:  # far past any int32; never hand int() a huge string
                if self.saturates and not raw.startswith("-"):
                    return INT32_MAX
                raise invalid(f"{self.name}: is out of range")
            value = int(raw)
            return min(value, INT32_MAX) if self.saturates else value
        if self.kind == "number":
            try:
                value = float(raw)
            except ValueError:
                raise invalid(f"{self.name}: must be a number") from None
            if not math.isfinite(value):
                raise invalid(f"{self.name}: must be a number")
            return value
        if self.kind == "boolean":
            if raw not in ("true", "false"):
                raise invalid(f"{self.name}: must be true or false")
            return raw == "true"
        return raw

    def validate(self, raw: str) -> Any:
        """Convert and check one raw value against the parameter's schema."""
        value = self.convert(raw)
        message = self.check(value)
        if message is not None:
            raise invalid(message)
        if self.canonical_uuid:
            value = value.lower()
        return value


def _compile_param(param: Parameter, components: dict[str, Any]) -> ParamCheck:
    schema = to_json_schema(param.schema, components)
    if param.location == "header":
        field = HEADER_FIELDS.get(param.name.lower())
    else:
        field = param.name
    return ParamCheck(
        name=param.name,
        header_key=param.name.lower(),
        location=param.location,
        field=field,
        required=param.required,
        kind=param.schema.get("type", "string"),
        default=param.schema.get("default"),
        canonical_uuid=param.schema.get("format") == "uuid",
        check=make_checker(schema, param.name),
        saturates=param.location == "query"
        and param.schema.get("type") == "integer"
        and "maximum" not in param.schema,
    )


@dataclass(frozen=True, slots=True)
class ValidatedParams:
    """What the parameter checks produced."""

    fields: dict[str, Any]  # path + query + forwarded headers, by request field name
    headers: dict[str, Any]  # every declared header present, by lower-cased name


class OperationValidator:
    """Every check of one operation, compiled."""

    def __init__(
        self,
        op: Operation,
        components: dict[str, Any],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.operation = op
        self.max_body_bytes = max_body_bytes
        compiled = [_compile_param(p, components) for p in op.parameters]
        self._path = tuple(p for p in compiled if p.location == "path")
        self._query = tuple(p for p in compiled if p.location == "query")
        self._headers = tuple(p for p in compiled if p.location == "header")
        self.has_body = op.body_schema is not None
        self._body_check = (
            make_checker(to_json_schema(op.body_schema, components), "body")
            if op.body_schema is not None
            else None
        )

    def params(self, request: Request) -> ValidatedParams:
        """Check path, query and header parameters; raise `invalid` on the first failure."""
        fields: dict[str, Any] = {}
        path_params = request.path_params
        for p in self._path:
            fields[p.name] = p.validate(path_params[p.name])
        if self._query:
            query = request.query_params
            for p in self._query:
                values = query.getlist(p.name)
                if not values:
                    if p.required:
                        raise invalid(f"{p.name}: is required")
                    if p.default is not None:
                        fields[p.name] = p.default
                    continue
                if len(values) > 1:
                    raise invalid(f"{p.name}: must be given once")
                fields[p.name] = p.validate(values[0])
        headers: dict[str, Any] = {}
        if self._headers:
            raw_headers = request.headers
            for p in self._headers:
                raw = raw_headers.get(p.header_key)
                if not raw:
                    if p.required:
                        raise invalid(f"{p.name}: is required")
                    continue
                value = p.validate(raw)
                headers[p.header_key] = value
                if p.field is not None:
                    fields[p.field] = value
        return ValidatedParams(fields=fields, headers=headers)

    async def body(self, request: Request) -> Any:
        """Read and check the JSON body; None when the operation has none."""
        if self._body_check is None:
            return None
        content_type = request.headers.get("content-type")
        if content_type:
            media = content_type.split(";", 1)[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise invalid("body: content type must be application/json")
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise invalid("body: malformed Content-Length")
            if int(declared) > self.max_body_bytes:
                raise invalid(f"body: must not exceed {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise invalid(f"body: must not exceed {self.max_body_bytes} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        # Kept as received for an RPC that carries the body verbatim (RAW_JSON in routing.py).
        request.state.raw_body = raw
        if not raw.strip():
            if self.operation.body_required:
                raise invalid("body: is required")
            return None
        try:
            data = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise invalid("body: must be valid JSON") from None
        message = self._body_check(data)
        if message is not None:
            raise invalid(message)
        return data
