"""The error envelope and the gRPC status → HTTP mapping of docs/contracts.md.

Every failure the edge answers, whatever produced it, has the shape
`{"error": {"code": "...", "message": "..."}}` with a code from the closed set
of `ErrorBody.code` (contract decision 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import grpc
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json"

INVALID_REQUEST = "invalid_request"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
METHOD_NOT_ALLOWED = "method_not_allowed"
NOT_IMPLEMENTED = "not_implemented"
INTERNAL_ERROR = "internal_error"
SERVICE_UNAVAILABLE = "service_unavailable"

#: The challenge every rejected admin request carries.
ADMIN_CHALLENGE = {"WWW-Authenticate": 'Basic realm="galaxy-admin"'}

#: Default messages when nothing more specific is known (mirrors the contract examples).
DEFAULT_MESSAGES = {
    INVALID_REQUEST: "request payload is invalid",
    UNAUTHORIZED: "basic authentication is required",
    FORBIDDEN: "caller is not authorized for this action",
    NOT_FOUND: "resource was not found",
    CONFLICT: "request conflicts with the current state of the resource",
    METHOD_NOT_ALLOWED: "request method is not allowed for this route",
    NOT_IMPLEMENTED: "endpoint is not implemented yet",
    INTERNAL_ERROR: "internal server error",
    SERVICE_UNAVAILABLE: "backend is temporarily unavailable",
}

#: gRPC status code → (HTTP status, envelope code), exactly as docs/contracts.md says.
#: Any code not listed (CANCELLED, UNKNOWN, INTERNAL, DATA_LOSS, ...) is a 500.
GRPC_STATUS_MAP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, INVALID_REQUEST),
    grpc.StatusCode.UNAUTHENTICATED: (401, UNAUTHORIZED),
    grpc.StatusCode.PERMISSION_DENIED: (403, FORBIDDEN),
    grpc.StatusCode.NOT_FOUND: (404, NOT_FOUND),
    grpc.StatusCode.ALREADY_EXISTS: (409, CONFLICT),
    grpc.StatusCode.FAILED_PRECONDITION: (409, CONFLICT),
    grpc.StatusCode.ABORTED: (409, CONFLICT),
    grpc.StatusCode.UNIMPLEMENTED: (501, NOT_IMPLEMENTED),
    grpc.StatusCode.UNAVAILABLE: (503, SERVICE_UNAVAILABLE),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, SERVICE_UNAVAILABLE),
}
FALLBACK_STATUS = (500, INTERNAL_ERROR)

#: Envelope codes whose message is the service's status details. For 500 and 503
#: the details may describe internals (exception text, peer addresses), so a fixed
#: message goes on the wire and the details only go to the log.
_DETAILS_PASS_THROUGH = frozenset(
    {INVALID_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, NOT_IMPLEMENTED}
)


class ApiError(Exception):
    """A failure to answer with the envelope; raised anywhere on the request path."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, code)
        self.headers = dict(headers or {})
        super().__init__(f"{status} {code}: {self.message}")

    def response(self) -> Response:
        """The envelope response for this error."""
        return error_response(self.status, self.code, self.message, headers=self.headers)


def invalid(message: str) -> ApiError:
    """A `400 invalid_request` naming the offending field in `message`."""
    return ApiError(400, INVALID_REQUEST, message)


def envelope_bytes(code: str, message: str) -> bytes:
    """The serialized envelope."""
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()


def error_response(
    status: int, code: str, message: str | None = None, *, headers: Mapping[str, str] | None = None
) -> Response:
    """An envelope response."""
    body = envelope_bytes(code, message or DEFAULT_MESSAGES.get(code, code))
    return Response(
        body, status_code=status, headers=dict(headers or {}), media_type=JSON_MEDIA_TYPE
    )


def map_grpc_status(code: grpc.StatusCode | None) -> tuple[int, str]:
    """(HTTP status, envelope code) for a gRPC status code."""
    if code is None:
        return FALLBACK_STATUS
    return GRPC_STATUS_MAP.get(code, FALLBACK_STATUS)


def from_grpc(code: grpc.StatusCode | None, details: str | None, *, service: str) -> ApiError:
    """The ApiError for a failed downstream call (see `_DETAILS_PASS_THROUGH`)."""
    status, envelope_code = map_grpc_status(code)
    if envelope_code in _DETAILS_PASS_THROUGH and details:
        message = details
    elif envelope_code == SERVICE_UNAVAILABLE:
        message = (
            f"the {service} service did not answer in time"
            if code == grpc.StatusCode.DEADLINE_EXCEEDED
            else f"the {service} service is unavailable"
        )
    else:
        message = DEFAULT_MESSAGES[envelope_code]
    headers = ADMIN_CHALLENGE if status == 401 else None
    return ApiError(status, envelope_code, message, headers=headers)
