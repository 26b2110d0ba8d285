"""Routes generated from the contract: one Starlette route per contract path.

Each `ContractRoute` holds every method of its path, so a known path called with
another method answers `405 method_not_allowed` with an `Allow` header listing
exactly the contract's methods (contract decision 2); Starlette's router answers
unknown paths with 404, which the app turns into the envelope. Routes are
ordered so that literal segments win over parameters (contract decision 6).

`GrpcOperation` is the one generic handler of every service-backed operation:
identity → validation → request message → unary call → reply. An operation
given a reply cache (internalSessionsGet: galaxy_edge.session_cache; a user
read of a service whose changes the edge follows: galaxy_edge.reply_cache)
answers a hit after validation and the identity gate, without the call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import grpc
from galaxy_kit.caching import cacheable_for
from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from galaxy_edge.downstream import ACCOUNT_RESOLVE_IDENTITY, Downstreams, Rpc
from galaxy_edge.errors import (
    INTERNAL_ERROR,
    JSON_MEDIA_TYPE,
    METHOD_NOT_ALLOWED,
    NOT_IMPLEMENTED,
    ApiError,
    error_response,
    from_grpc,
)
from galaxy_edge.spec import ADMIN_SECURITY, USER_SECURITY, Operation
from galaxy_edge.translation import ReplyBodies, ReplyEncoder, encode_json, request_message
from galaxy_edge.validation import OperationValidator

if TYPE_CHECKING:
    from galaxy_edge.admin_cache import AdminCredentialCache
    from galaxy_edge.geo_observer import GeoObserver
    from galaxy_edge.identity import IdentityGate
    from galaxy_edge.reply_cache import ReplyCache
    from galaxy_edge.session_cache import SessionCache

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]

#: A free-form JSON document carried as its text (protos/galaxy/common/v1/json.proto): a request
#: field `body` of this type gets the body bytes as received, a reply of this type is the response
#: body as is. Numbers never pass through a double (docs/contracts.md, "Free-form JSON bodies").
RAW_JSON = "galaxy.common.v1.RawJson"

#: The caller field of docs/contracts.md rule 2, by security scheme.
CALLER_FIELDS = {USER_SECURITY: "user_id", ADMIN_SECURITY: "admin_username"}
USER_HEADER = "x-user-id"


def json_response(payload: Any, status: int) -> Response:
    """A JSON response with a pre-encoded body."""
    return Response(encode_json(payload), status_code=status, media_type=JSON_MEDIA_TYPE)


_REPLIES = ReplyEncoder()
_REPLY_BODIES = ReplyBodies(_REPLIES)


def reply_to_json(reply: Any) -> Any:
    """A reply message as contract JSON (docs/contracts.md, "Schema → message mapping")."""
    return _REPLIES.to_json(reply)


class GrpcOperation:
    """The generic handler of one service-backed operation."""

    def __init__(
        self,
        operation: Operation,
        validator: OperationValidator,
        rpc: Rpc | None,
        *,
        downstreams: Downstreams,
        gate: IdentityGate,
        geo_observer: GeoObserver | None = None,
        replies: SessionCache | None = None,
        revokes: SessionCache | None = None,
        changes_admins: AdminCredentialCache | None = None,
        user_replies: ReplyCache | None = None,
    ) -> None:
        self.operation = operation
        self.validator = validator
        self.rpc = rpc
        self._downstreams = downstreams
        self._gate = gate
        self._geo_observer = geo_observer if operation.security == USER_SECURITY else None
        # Answers the edge may give without the RPC (galaxy_edge.session_cache); checked after
        # validation, so a malformed request is refused exactly as without the cache.
        self._replies = replies
        # A revocation carried by this edge drops the sessions it names from the cache at once.
        self._revokes = revokes
        # A disable or password reset carried by this edge forgets every remembered admin
        # credential at once; other edges learn it from auth's event.
        self._changes_admins = changes_admins
        # User reads of a service that lets the edge keep replies (galaxy_edge.reply_cache) are
        # answered from it; every other operation of that service naming a user forgets the
        # user's replies at once (read your writes; other edges learn it from the change event).
        is_read = operation.method == "GET"
        self._kept_replies = user_replies if is_read and operation.security == USER_SECURITY else None
        self._forgets_replies = user_replies if not is_read else None
        self._caller_field = CALLER_FIELDS.get(operation.security or "")
        self._no_content = operation.success_status == 204
        # A write to account about a user (the caller, or the path's user_id) may take the
        # user out of `active`: this edge forgets the user at once, so its next request is
        # checked again here; other edges learn it from the lifecycle feed.
        self._forgets_user = (
            rpc is not None
            and rpc.service == ACCOUNT_RESOLVE_IDENTITY[0]
            and operation.method != "GET"
        )
        self._raw_body = rpc is not None and _is_raw_json(rpc.request_class.DESCRIPTOR.fields_by_name.get("body"))
        self._raw_reply = rpc is not None and rpc.response_class.DESCRIPTOR.full_name == RAW_JSON
        if operation.security == USER_SECURITY and not any(
            p.location == "header" and p.name.lower() == USER_HEADER for p in operation.parameters
        ):
            raise ValueError(f"{operation.operation_id} is a user operation without X-User-ID")

    async def __call__(self, request: Request) -> Response:
        op = self.operation
        data: dict[str, Any] = {}
        if op.security == ADMIN_SECURITY:
            # Before any validation: an unauthenticated caller learns nothing else.
            data[self._caller_field] = await self._gate.admin(request)
        params = self.validator.params(request)
        data.update(params.fields)
        if self.validator.has_body:
            body = await self.validator.body(request)
            if body is not None:
                data["body"] = body
        if op.security == USER_SECURITY:
            user_id = params.headers[USER_HEADER]
            await self._gate.user(user_id)
            data[self._caller_field] = user_id
            if self._geo_observer is not None:  # docs/geo.md: queued, never awaited
                self._geo_observer.observe(user_id, request.scope["headers"])
        rpc = self.rpc
        if rpc is None:
            raise ApiError(501, NOT_IMPLEMENTED, "endpoint is not implemented yet")
        replies, cache_key, generation = self._replies, None, 0
        if replies is not None:
            cache_key = replies.key_of(data)
            if cache_key is not None:
                cached = replies.answer(cache_key)
                if cached is not None:
                    return Response(cached, status_code=op.success_status, media_type=JSON_MEDIA_TYPE)
                generation = replies.generation
        kept, reply_user, reply_operation = self._kept_replies, None, ""
        kept_generation, started_at = 0, 0.0
        if kept is not None:
            reply_user = kept.user_key(data.get("user_id"))
            if reply_user is not None:
                reply_operation = self._reply_operation(data)
                cached = kept.answer(reply_user, reply_operation)
                if cached is not None:
                    return Response(cached, status_code=op.success_status, media_type=JSON_MEDIA_TYPE)
                kept_generation = kept.generation
                started_at = kept.now()
        raw_body = None
        if self._raw_body and "body" in data:
            del data["body"]
            raw_body = request.state.raw_body
        try:
            message = request_message(rpc.request_class, data)
        except json_format.ParseError as error:
            log.error("request of %s does not fit %s: %s", op.operation_id, rpc.full_method, error)
            raise ApiError(500, INTERNAL_ERROR) from None
        if raw_body is not None:
            message.body.json = raw_body
        trailers = None
        try:
            if reply_user is not None:
                reply, trailers = await self._downstreams.call_with_trailers(rpc, message)
            else:
                reply = await self._downstreams.call(rpc, message)
        except grpc.aio.AioRpcError as error:
            self._forget_subject(data)
            if self._revokes is not None:
                self._revokes.forget(data)
            if self._changes_admins is not None:
                self._changes_admins.forget_all()
            failure = from_grpc(error.code(), error.details(), service=rpc.service)
            if failure.status >= 500 and failure.status != 501:
                log.warning(
                    "%s %s failed: %s %s",
                    op.operation_id,
                    rpc.full_method,
                    error.code().name,
                    error.details(),
                )
            raise failure from None
        self._forget_subject(data)
        if self._revokes is not None:
            self._revokes.forget(data)
        if self._changes_admins is not None:
            self._changes_admins.forget_all()
        if self._no_content:
            return Response(status_code=204)
        if self._raw_reply:
            return Response(reply.json, status_code=op.success_status, media_type=JSON_MEDIA_TYPE)
        body = _REPLY_BODIES.body(reply)
        if replies is not None and cache_key is not None:
            replies.keep(cache_key, reply, body, generation)
        if kept is not None and reply_user is not None:
            kept.keep(
                reply_user,
                reply_operation,
                body,
                cacheable_seconds=cacheable_for(trailers),
                started_at=started_at,
                generation=kept_generation,
            )
        return Response(body, status_code=op.success_status, media_type=JSON_MEDIA_TYPE)

    def _forget_subject(self, data: dict[str, Any]) -> None:
        if self._forgets_user and isinstance(data.get("user_id"), str):
            self._gate.forget(data["user_id"])
        if self._forgets_replies is not None:
            self._forgets_replies.forget_user(data.get("user_id"))

    def _reply_operation(self, data: dict[str, Any]) -> str:
        """The key of this read among the user's kept replies: the operation, and any request
        field besides the user (none for the account read)."""
        if len(data) == 1:
            return self.operation.operation_id
        rest = sorted((k, repr(v)) for k, v in data.items() if k != "user_id")
        return f"{self.operation.operation_id}{rest!r}"


def _is_raw_json(field: Any) -> bool:
    return field is not None and field.message_type is not None and field.message_type.full_name == RAW_JSON


class ContractRoute(Route):
    """One contract path with all of its methods; dispatches on the method itself."""

    def __init__(self, path: str, handlers: dict[str, tuple[Operation, Handler]]) -> None:
        self.operations: dict[str, Operation] = {m: op for m, (op, _) in handlers.items()}
        self._handlers: dict[str, Handler] = {m: h for m, (_, h) in handlers.items()}
        self.allow = ", ".join(handlers)
        # An ASGI endpoint (not a function) leaves `methods` unset, so the route
        # matches every method and `dispatch` answers the 405 itself.
        super().__init__(path, endpoint=_RouteEndpoint(self), name=path, include_in_schema=False)

    async def dispatch(self, request: Request) -> Response:
        """Answer one request: 405 for a method the path lacks, the envelope for every failure."""
        handler = self._handlers.get(request.method)
        if handler is None:
            return error_response(
                405,
                METHOD_NOT_ALLOWED,
                f"method {request.method} is not allowed; use {self.allow}",
                headers={"Allow": self.allow},
            )
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()
        except Exception:
            op = self.operations[request.method]
            log.exception(
                "unhandled error in %s %s (%s)", request.method, self.path, op.operation_id
            )
            return error_response(500, INTERNAL_ERROR)


class _RouteEndpoint:
    """The ASGI app of a ContractRoute."""

    __slots__ = ("_route",)

    def __init__(self, route: ContractRoute) -> None:
        self._route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._route.dispatch(Request(scope, receive))
        await response(scope, receive, send)


def route_sort_key(path: str) -> tuple[tuple[int, str], ...]:
    """Literal segments sort before parameters at the first position where paths differ."""
    return tuple((1, "") if seg.startswith("{") else (0, seg) for seg in path.strip("/").split("/"))


def ordered(routes: Iterable[ContractRoute]) -> list[ContractRoute]:
    """Routes in matching order (contract decision 6)."""
    return sorted(routes, key=lambda r: route_sort_key(r.path))
