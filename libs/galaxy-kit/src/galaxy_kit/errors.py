"""Domain errors and the one table that maps them to gRPC status codes.

Domain code raises these; the gRPC server turns them into statuses (see
grpc_server.py) and the edge turns statuses into the REST error envelope. The
message travels to the API client, so it must be client-safe.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    status_code = grpc.StatusCode.INVALID_ARGUMENT


class Unauthenticated(DomainError):
    status_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(DomainError):
    status_code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(DomainError):
    status_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    status_code = grpc.StatusCode.ALREADY_EXISTS


class Conflict(DomainError):
    """The request does not fit the resource's current state."""

    status_code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(DomainError):
    status_code = grpc.StatusCode.UNAVAILABLE
