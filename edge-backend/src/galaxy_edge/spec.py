"""The REST contract as the edge serves it.

The contract file (`contract/galaxy-backend.openapi.yaml`, the project's
contract) is read once at start-up. The corrections the project decided on where
the contract contradicts itself (docs/contracts.md, "Decisions") are applied
here, in code, so the file stays as published:

* contract decision 3 — `LobbyGameDetail` is `allOf` two objects that both forbid
  additional properties; it is served and validated as one object holding the
  union of both property sets and both required lists.

Everything the request path needs (operations, parameters, body schemas,
success statuses) is extracted into plain immutable objects here, so no request
ever walks the spec.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

CONTRACT_PACKAGE = "galaxy_edge.contract"
CONTRACT_FILE = "galaxy-backend.openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: Security scheme names of the contract and what the edge does for them.
USER_SECURITY = "UserHeader"
ADMIN_SECURITY = "AdminBasicAuth"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter of an operation (path, query or header)."""

    name: str
    location: str  # "path" | "query" | "header"
    required: bool
    schema: dict[str, Any]

    @property
    def field_name(self) -> str:
        """The protobuf field that carries the parameter (`Accept-Language` → `accept_language`)."""
        return self.name.lower().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Operation:
    """One (method, path) of the contract, reduced to what the edge needs."""

    method: str  # upper case
    path: str
    operation_id: str
    security: str | None  # USER_SECURITY | ADMIN_SECURITY | None
    success_status: int
    parameters: tuple[Parameter, ...]
    body_schema: dict[str, Any] | None
    body_required: bool
    response_schema_name: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def rpc_name(self) -> str:
        """The RPC name of docs/contracts.md: the operationId, first letter upper-cased."""
        return self.operation_id[:1].upper() + self.operation_id[1:]


@dataclass(frozen=True, slots=True)
class Contract:
    """The loaded, corrected contract."""

    document: dict[str, Any]
    operations: tuple[Operation, ...]

    @property
    def paths(self) -> dict[str, list[Operation]]:
        """Operations grouped by path, in contract order."""
        grouped: dict[str, list[Operation]] = {}
        for op in self.operations:
            grouped.setdefault(op.path, []).append(op)
        return grouped

    def to_json_bytes(self) -> bytes:
        """The corrected contract as compact JSON (what GET /openapi.json serves)."""
        return json.dumps(self.document, separators=(",", ":"), ensure_ascii=False).encode()


def read_contract_text() -> str:
    """The packaged contract file, as text."""
    return resources.files(CONTRACT_PACKAGE).joinpath(CONTRACT_FILE).read_text(encoding="utf-8")


def merge_all_of_objects(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Fold an `allOf` of object schemas into one object schema (contract decision 3).

    `$ref` parts are resolved against `components`; properties are united (later
    parts win on a name clash) and required lists concatenated without
    duplicates. `additionalProperties: false` is kept when any part says so.
    """
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    closed = False
    for part in schema["allOf"]:
        if "$ref" in part:
            part = components[part["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in part:
            part = merge_all_of_objects(part, components)
        merged["properties"].update(copy.deepcopy(part.get("properties", {})))
        for name in part.get("required", []):
            if name not in merged["required"]:
                merged["required"].append(name)
        if part.get("additionalProperties") is False:
            closed = True
        if "description" in part and "description" not in merged:
            merged["description"] = part["description"]
    if closed:
        merged["additionalProperties"] = False
    for key, value in schema.items():
        if key != "allOf":
            merged.setdefault(key, value)
    return merged


def apply_decisions(document: dict[str, Any]) -> dict[str, Any]:
    """Apply the project's decisions where the contract contradicts itself (see module doc)."""
    schemas = document["components"]["schemas"]
    detail = schemas.get("LobbyGameDetail")
    if detail is not None and "allOf" in detail:
        schemas["LobbyGameDetail"] = merge_all_of_objects(detail, schemas)
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s until a concrete node is reached."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise ValueError(f"unresolvable reference {ref!r}")
        seen.add(ref)
        target: Any = document
        for token in ref[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _security_of(document: dict[str, Any], op: dict[str, Any]) -> str | None:
    requirements = op.get("security", document.get("security", []))
    names = {name for requirement in requirements for name in requirement}
    if ADMIN_SECURITY in names:
        return ADMIN_SECURITY
    if USER_SECURITY in names:
        return USER_SECURITY
    return None


def _success_status(op: dict[str, Any]) -> int:
    statuses = sorted(int(code) for code in op["responses"] if str(code).startswith("2"))
    if not statuses:
        raise ValueError(f"operation {op.get('operationId')} declares no 2xx response")
    return statuses[0]


def _json_schema_of(document: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any] | None:
    content = holder.get("content") or {}
    media = content.get("application/json")
    if media is None or "schema" not in media:
        return None
    return media["schema"]


def _schema_name(schema: dict[str, Any] | None) -> str | None:
    if schema and "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return None


def extract_operations(document: dict[str, Any]) -> tuple[Operation, ...]:
    """Every operation of the contract, in document order."""
    operations: list[Operation] = []
    for path, item in document["paths"].items():
        path_level = [_resolve(document, p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            declared: dict[tuple[str, str], dict[str, Any]] = {
                (p["in"], p["name"]): p for p in path_level
            }
            for p in op.get("parameters", []):
                p = _resolve(document, p)
                declared[(p["in"], p["name"])] = p
            parameters = tuple(
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required", p["in"] == "path")),
                    schema=p.get("schema", {}),
                )
                for p in declared.values()
                if p["in"] in ("path", "query", "header")
            )
            body_schema = None
            body_required = False
            if "requestBody" in op:
                body = _resolve(document, op["requestBody"])
                body_schema = _json_schema_of(document, body)
                body_required = bool(body.get("required", False))
            status = _success_status(op)
            response = _resolve(document, op["responses"][str(status)])
            operations.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=op["operationId"],
                    security=_security_of(document, op),
                    success_status=status,
                    parameters=parameters,
                    body_schema=body_schema,
                    body_required=body_required,
                    response_schema_name=_schema_name(_json_schema_of(document, response)),
                    raw=op,
                )
            )
    return tuple(operations)


def load_contract(text: str | None = None) -> Contract:
    """Parse the contract (the packaged file unless `text` is given) and apply the decisions."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(read_contract_text() if text is None else text, Loader=loader)
    document = apply_decisions(document)
    return Contract(document=document, operations=extract_operations(document))
