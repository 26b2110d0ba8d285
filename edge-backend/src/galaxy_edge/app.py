"""The edge application: the contract's routes, the probes, the served contract.

Everything request-independent happens once, in `create_app`: the contract is
loaded and corrected, every operation's validator compiled, its owner and RPC
resolved and its route generated. The lifespan opens the downstream channels
and binds the push listener.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from galaxy_edge.admin_cache import (
    CREDENTIAL_CHANGING_OPERATIONS,
    AdminCredentialCache,
    admin_subscription,
)
from galaxy_edge.dispatch import EdgeApp
from galaxy_edge.downstream import (
    ACCOUNT_RESOLVE_IDENTITY,
    AUTH_CHECK_ADMIN,
    EDGE,
    Downstreams,
    find_rpc,
    owner_of,
)
from galaxy_edge.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    JSON_MEDIA_TYPE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    SERVICE_UNAVAILABLE,
    error_response,
)
from galaxy_edge.event_feed import EventFeed, Subscription
from galaxy_edge.geo_observer import build_geo_observer
from galaxy_edge.identity import IdentityGate
from galaxy_edge.identity_cache import IdentityCache, lifecycle_subscription
from galaxy_edge.push import PushListener, PushServicer
from galaxy_edge.reply_cache import CHANGE_TOPICS, ReplyCache, changes_subscription
from galaxy_edge.routing import ContractRoute, GrpcOperation, Handler, json_response, ordered
from galaxy_edge.session_cache import OPERATION_ID as SESSION_LOOKUP
from galaxy_edge.session_cache import REVOKING_OPERATIONS as SESSION_REVOCATIONS
from galaxy_edge.session_cache import SessionCache, revocation_subscription
from galaxy_edge.settings import EdgeSettings
from galaxy_edge.spec import Contract, Operation, load_contract
from galaxy_edge.validation import OperationValidator

log = logging.getLogger(__name__)

OPENAPI_PATH = "/openapi.json"


class Edge:
    """The state of one edge process: contract, downstream channels, push listener, routes."""

    def __init__(self, settings: EdgeSettings, contract: Contract | None = None) -> None:
        self.settings = settings
        self.contract = contract or load_contract()
        self.downstreams = Downstreams(
            settings.grpc_targets(), timeout=settings.rpc_timeout_seconds
        )
        self.push = PushListener(
            settings.push_listen_addr, PushServicer(lambda: self.downstreams.channel("notify"))
        )
        # Answers kept without an RPC, and the one feed of events that evicts them.
        subscriptions: list[Subscription] = []
        self.active_users: IdentityCache | None = None
        if settings.identity_cache_max_users > 0:
            self.active_users = IdentityCache(
                max_users=settings.identity_cache_max_users,
                max_silence_seconds=settings.identity_feed_max_silence_seconds,
            )
            subscriptions.append(lifecycle_subscription(self.active_users))
        self.sessions: SessionCache | None = None
        if settings.session_cache_max_sessions > 0:
            self.sessions = SessionCache(
                max_sessions=settings.session_cache_max_sessions,
                max_silence_seconds=settings.identity_feed_max_silence_seconds,
                ttl_seconds=settings.session_cache_ttl_seconds,
            )
            subscriptions.append(revocation_subscription(self.sessions))
        self.admins: AdminCredentialCache | None = None
        if settings.admin_cache_max_credentials > 0:
            self.admins = AdminCredentialCache(
                max_credentials=settings.admin_cache_max_credentials,
                max_silence_seconds=settings.identity_feed_max_silence_seconds,
                ttl_seconds=settings.admin_cache_ttl_seconds,
            )
            subscriptions.append(admin_subscription(self.admins))
        self.replies: ReplyCache | None = None
        if settings.reply_cache_max_users > 0:
            self.replies = ReplyCache(
                max_users=settings.reply_cache_max_users,
                max_silence_seconds=settings.identity_feed_max_silence_seconds,
                max_seconds=settings.reply_cache_max_seconds,
            )
            subscriptions.extend(
                changes_subscription(self.replies, topic) for topic in CHANGE_TOPICS.values()
            )
        self.event_feed: EventFeed | None = None
        if subscriptions:
            self.event_feed = EventFeed(
                subscriptions,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                heartbeat_seconds=settings.identity_feed_heartbeat_seconds,
            )
        self.gate = IdentityGate(
            self.downstreams,
            check_admin=find_rpc(*AUTH_CHECK_ADMIN),
            resolve_user=find_rpc(*ACCOUNT_RESOLVE_IDENTITY),
            active_users=self.active_users,
            admins=self.admins,
        )
        self.geo_observer = build_geo_observer(settings, self.downstreams)
        self.openapi_bytes = self.contract.to_json_bytes()
        self.operation_handlers: dict[tuple[str, str], GrpcOperation] = {}
        self.routes = self._build_routes()

    # -- routes --------------------------------------------------------------------------------

    def _local_handlers(self) -> dict[str, Handler]:
        return {"getHealthz": self.healthz, "getReadyz": self.readyz}

    def _handler_for(self, op: Operation) -> Handler:
        owner = owner_of(op.path)
        if owner == EDGE:
            local = self._local_handlers().get(op.operation_id)
            if local is None:
                raise ValueError(f"edge-owned operation {op.operation_id} has no local handler")
            return local
        rpc = find_rpc(owner, op.rpc_name)
        if rpc is None:
            log.warning(
                "no rpc %s in %s stubs; %s answers 501", op.rpc_name, owner, op.operation_id
            )
        validator = OperationValidator(
            op,
            self.contract.document["components"]["schemas"],
            max_body_bytes=self.settings.max_body_bytes,
        )
        handler = GrpcOperation(
            op,
            validator,
            rpc,
            downstreams=self.downstreams,
            gate=self.gate,
            geo_observer=self.geo_observer,
            replies=self.sessions if op.operation_id == SESSION_LOOKUP else None,
            revokes=self.sessions if op.operation_id in SESSION_REVOCATIONS else None,
            changes_admins=self.admins
            if op.operation_id in CREDENTIAL_CHANGING_OPERATIONS
            else None,
            user_replies=self.replies if rpc is not None and rpc.service in CHANGE_TOPICS else None,
        )
        self.operation_handlers[(op.method, op.path)] = handler
        return handler

    def _build_routes(self) -> list[ContractRoute]:
        routes = [
            ContractRoute(path, {op.method: (op, self._handler_for(op)) for op in ops})
            for path, ops in self.contract.paths.items()
        ]
        return ordered(routes)

    # -- lifecycle -----------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """Open the channels, bind the push listener, follow the event feed; undo on shutdown."""
        await self.downstreams.open()
        if self.geo_observer is not None:
            self.geo_observer.start()
        if self.event_feed is not None:
            self.event_feed.start()
        try:
            await self.push.start()
            unbound = sorted(
                h.operation.operation_id for h in self.operation_handlers.values() if h.rpc is None
            )
            log.info(
                "edge serving %d operations (%d without an rpc in the stubs: %s); push on port %s",
                len(self.contract.operations),
                len(unbound),
                ", ".join(unbound) or "none",
                self.push.port,
            )
            try:
                yield
            finally:
                await self.push.stop(self.settings.shutdown_grace_seconds)
        finally:
            if self.event_feed is not None:
                await self.event_feed.stop()
            if self.geo_observer is not None:  # after the last request, before the channels close
                await self.geo_observer.stop(self.settings.shutdown_grace_seconds)
            await self.downstreams.close()

    # -- edge-owned endpoints ------------------------------------------------------------------

    async def healthz(self, _request: Request) -> Response:
        """Liveness: the process answers."""
        return json_response({"status": "ok"}, 200)

    async def readyz(self, _request: Request) -> Response:
        """Readiness: every downstream's health is SERVING and the push listener is bound.

        Notify's health is also the push feed's: notify serves `SubscribePush` from the
        moment it reports SERVING, so an edge that cannot reach notify is not ready to relay
        a gateway's subscription (docs/notify.md, "Readiness").

        The contract's 503 is `ServiceUnavailableError`, the error envelope, so a
        not-ready edge answers the envelope (not `ReadyzResponse {"status":"starting"}`).
        """
        statuses = await self.downstreams.check_health(self.settings.readiness_timeout_seconds)
        waiting = [
            f"{service} {status}" for service, status in statuses.items() if status != "SERVING"
        ]
        if not self.push.bound:
            waiting.append("push listener not bound")
        if waiting:
            return error_response(
                503, SERVICE_UNAVAILABLE, "backend is not ready: " + ", ".join(waiting)
            )
        return json_response({"status": "ready"}, 200)

    async def openapi(self, _request: Request) -> Response:
        """The corrected contract as JSON."""
        return Response(self.openapi_bytes, media_type=JSON_MEDIA_TYPE)


_STATUS_CODES = {
    400: INVALID_REQUEST,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    503: SERVICE_UNAVAILABLE,
}


async def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, INTERNAL_ERROR if exc.status_code >= 500 else INVALID_REQUEST
    )
    status = exc.status_code if code != INTERNAL_ERROR else 500
    message = None if code in (NOT_FOUND, INTERNAL_ERROR) else str(exc.detail)
    if code == NOT_FOUND:
        message = "no route matches the request path"
    return error_response(status, code, message, headers=exc.headers)


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, INTERNAL_ERROR)


def create_app(
    settings: EdgeSettings | None = None, *, contract: Contract | None = None
) -> Starlette:
    """The edge's ASGI app; `app.state.edge` is its `Edge`.

    A plain Starlette app: every route is generated from the contract, so
    FastAPI's dependency injection, OpenAPI generation and per-request
    telemetry hooks would only cost CPU on each request; and contract paths are
    dispatched before Starlette's router (galaxy_edge.dispatch).
    """
    edge = Edge(settings or EdgeSettings(), contract)
    app = EdgeApp(
        contract_routes=edge.routes,
        routes=[
            *edge.routes,
            Route(OPENAPI_PATH, edge.openapi, methods=["GET"], include_in_schema=False),
        ],
        lifespan=edge.lifespan,
        exception_handlers={StarletteHTTPException: _http_exception, Exception: _unhandled},
    )
    app.router.redirect_slashes = False
    app.state.edge = edge
    return app
