"""Who is calling: the trusted `X-User-ID` on user routes, HTTP Basic on admin routes.

* `/api/v1/admin/*` — the `Authorization: Basic` credentials are checked by
  `galaxy.auth.v1.AuthService/CheckAdminCredentials` before anything else about
  the request is looked at (so an unauthenticated caller learns nothing about
  the request's validity). A missing or malformed header, or credentials auth
  rejects (UNAUTHENTICATED), answer `401 unauthorized` with
  `WWW-Authenticate: Basic realm="galaxy-admin"`. A check auth accepted is
  remembered briefly in the `AdminCredentialCache` (galaxy_edge.admin_cache),
  kept true by auth's admin-credential events, so a repeated admin request
  costs no check RPC.
* `/api/v1/user/*` — the gateway has verified the device session and forwards
  `X-User-ID` (a UUID, checked with the other parameters). The edge then asks
  `galaxy.account.v1.AccountService/ResolveUserIdentity`; `unknown`, `deleted`
  and `blocked` users answer `400 invalid_request` (contract decision 5). An
  `active` answer is remembered in the `IdentityCache` (galaxy_edge.identity_cache),
  kept true by the account lifecycle feed, so a known user costs no RPC.

Both checks fail closed: when one cannot be made (the service is down, does
not answer within the deadline, answers UNIMPLEMENTED or any other error, or
the stubs lack the RPC), the request is refused with `503 service_unavailable`
and never reaches the owning service.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import Message
from starlette.requests import Request

from galaxy_edge.downstream import Downstreams, Rpc
from galaxy_edge.errors import (
    ADMIN_CHALLENGE,
    SERVICE_UNAVAILABLE,
    UNAUTHORIZED,
    ApiError,
    invalid,
)
from galaxy_edge.identity_cache import IdentityCache

if TYPE_CHECKING:
    from galaxy_edge.admin_cache import AdminCredentialCache

log = logging.getLogger(__name__)

ACTIVE = "active"
IDENTITY_STATUSES = ("active", "deleted", "blocked", "unknown")

#: gRPC codes of CheckAdminCredentials that mean "these credentials are not accepted".
_REJECTED = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    }
)


def unauthorized(message: str) -> ApiError:
    """A `401 unauthorized` with the admin Basic challenge."""
    return ApiError(401, UNAUTHORIZED, message, headers=ADMIN_CHALLENGE)


def parse_basic(header: str | None) -> tuple[str, str]:
    """(username, password) of an `Authorization: Basic` header; 401 if missing or malformed."""
    if not header:
        raise unauthorized("basic authentication is required")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise unauthorized("basic authentication is required")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise unauthorized("malformed basic authentication credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise unauthorized("malformed basic authentication credentials")
    return username, password


def cannot_check(service: str, what: str, code: grpc.StatusCode | None = None) -> ApiError:
    """The `503 service_unavailable` of a check that could not be made (fail closed)."""
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        reason = f"the {service} service did not answer in time"
    elif code in (None, grpc.StatusCode.UNAVAILABLE):
        reason = f"the {service} service is unavailable"
    else:
        reason = f"the {service} service cannot check {what}"
    return ApiError(503, SERVICE_UNAVAILABLE, reason)


def client_address(request: Request) -> str:
    """Who sent the request, for auth's per-address throttling of admin checks.

    The first `X-Forwarded-For` entry (the gateway in front of the edge appends
    to it), else the HTTP peer; empty when neither is known.
    """
    forwarded = request.headers.get("x-forwarded-for", "")
    first = forwarded.split(",", 1)[0].strip()
    if first:
        return first[:128]
    return request.client.host if request.client is not None else ""


def identity_status(reply: Message) -> str:
    """The `status` of a ResolveUserIdentity reply, one of IDENTITY_STATUSES (string or enum)."""
    field = reply.DESCRIPTOR.fields_by_name.get("status")
    if field is None:
        return "unknown"
    value = reply.status
    if field.enum_type is not None:
        enum_value = field.enum_type.values_by_number.get(value)
        value = enum_value.name if enum_value is not None else ""
    name = str(value).lower()
    for status in IDENTITY_STATUSES:
        if name == status or name.endswith("_" + status):
            return status
    return "unknown"


_REFUSED_MESSAGES = {
    "unknown": "X-User-ID: unknown user",
    "deleted": "X-User-ID: the user account is deleted",
    "blocked": "X-User-ID: the user account is blocked",
}


class IdentityGate:
    """The two identity checks of the edge, bound to the downstream channels."""

    def __init__(
        self,
        downstreams: Downstreams,
        *,
        check_admin: Rpc | None,
        resolve_user: Rpc | None,
        active_users: IdentityCache | None = None,
        admins: AdminCredentialCache | None = None,
    ) -> None:
        self._downstreams = downstreams
        self._check_admin = check_admin
        self._resolve_user = resolve_user
        self._active_users = active_users
        self._admins = admins

    async def admin(self, request: Request) -> str:
        """The authenticated administrator's username; raises 401, or 503 if auth cannot tell."""
        header = request.headers.get("authorization")
        cache, key, generation = self._admins, "", 0
        if cache is not None and header:
            # Only a header auth accepted is ever remembered, so a hit needs no parsing.
            key = cache.key_of(header)
            remembered = cache.username(key)
            if remembered is not None:
                return remembered
            generation = cache.generation
        username, password = parse_basic(header)
        if self._check_admin is None:
            log.error("the auth stubs lack CheckAdminCredentials; refusing admin requests")
            raise cannot_check("auth", "admin credentials")
        message = self._check_admin.request_class(
            username=username, password=password, client_address=client_address(request)
        )
        try:
            reply = await self._downstreams.call(self._check_admin, message)
        except grpc.aio.AioRpcError as error:
            if error.code() in _REJECTED:
                raise unauthorized("invalid admin credentials") from None
            log.warning("admin credential check failed: %s %s", error.code().name, error.details())
            raise cannot_check("auth", "admin credentials", error.code()) from None
        confirmed = (
            getattr(reply, "username", "") if "username" in reply.DESCRIPTOR.fields_by_name else ""
        ) or username
        if cache is not None and key:
            cache.keep(key, confirmed, generation)
        return confirmed

    def forget(self, user_id: str) -> None:
        """Check this user with account again on the next request (after a write about them)."""
        if self._active_users is not None:
            self._active_users.evict(user_id.lower())

    async def user(self, user_id: str) -> None:
        """Refuse an unknown, deleted or blocked user with 400; 503 if account cannot tell."""
        if self._resolve_user is None:
            log.error("the account stubs lack ResolveUserIdentity; refusing user requests")
            raise cannot_check("account", "the user's identity")
        cache = self._active_users
        if cache is not None and cache.is_active(user_id):
            return
        generation = cache.generation if cache is not None else 0
        message = self._resolve_user.request_class(user_id=user_id)
        try:
            reply = await self._downstreams.call(self._resolve_user, message)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code == grpc.StatusCode.NOT_FOUND:
                raise invalid(_REFUSED_MESSAGES["unknown"]) from None
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise invalid(f"X-User-ID: {error.details() or 'is invalid'}") from None
            log.warning("user identity check failed: %s %s", code.name, error.details())
            raise cannot_check("account", "the user's identity", code) from None
        status = identity_status(reply)
        if status != ACTIVE:
            raise invalid(_REFUSED_MESSAGES[status])
        if cache is not None:
            cache.remember(user_id, generation)
