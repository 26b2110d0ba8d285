"""The edge's test harness: real grpc.aio servers standing in for the seven services.

Every downstream is a real gRPC server on 127.0.0.1:0 serving the generated
servicer base class (which answers UNIMPLEMENTED, like a service that has not
built an RPC) plus `grpc.health.v1`; account, which the edge asks about every
user, is a double that knows every user as active. Where a test needs a particular answer it
passes a `...ServicerDouble`, a small subclass recording what reached it.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy.common.v1.json_pb2 import RawJson
from galaxy.lobby.v1 import lobby_pb2, lobby_pb2_grpc
from galaxy.notify.v1 import notify_pb2, notify_pb2_grpc
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_edge.app import create_app
from galaxy_edge.downstream import SERVICES
from galaxy_edge.settings import EdgeSettings
from galaxy_edge.spec import Contract, load_contract
from google.protobuf import empty_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from starlette.applications import Starlette

ADMIN_USER = "root"
ADMIN_PASSWORD = "s3cret-pass"
USER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
GAME_ID = "0b6d8f5e-7c1a-4f43-9a51-2f3c4d5e6f70"
CREATED_AT = Timestamp(seconds=1_767_323_045)  # 2026-01-02T03:04:05Z
CREATED_AT_JSON = "2026-01-02T03:04:05Z"


def stubs(service: str) -> Any:
    """The generated `_pb2_grpc` module of a service."""
    return importlib.import_module(f"galaxy.{service}.v1.{service}_pb2_grpc")


def base_servicer(service: str) -> Any:
    """The generated servicer base class of a service: every RPC answers UNIMPLEMENTED."""
    return getattr(stubs(service), f"{service.capitalize()}ServiceServicer")()


class Recorder:
    """Mixin: remembers every request that reached the double, by RPC name."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def record(self, rpc: str, request: Any) -> None:
        self.calls.append((rpc, request))

    def requests(self, rpc: str) -> list[Any]:
        return [request for name, request in self.calls if name == rpc]


class RecordingAuthServicerDouble(auth_pb2_grpc.AuthServiceServicer, Recorder):
    """Test double of the auth service: one administrator, admin accounts, send-email-code."""

    def __init__(self) -> None:
        Recorder.__init__(self)

    async def CheckAdminCredentials(self, request, context):
        self.record("CheckAdminCredentials", request)
        if (request.username, request.password) != (ADMIN_USER, ADMIN_PASSWORD):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid admin credentials")
        return auth_pb2.AdminPrincipal(username=request.username)

    async def AdminAdminAccountsList(self, request, context):
        self.record("AdminAdminAccountsList", request)
        return auth_pb2.AdminAccountList(
            items=[auth_pb2.AdminAccount(username=ADMIN_USER, created_at=CREATED_AT)]
        )

    async def AdminAdminAccountsCreate(self, request, context):
        self.record("AdminAdminAccountsCreate", request)
        return auth_pb2.AdminAccount(username=request.body.username, created_at=CREATED_AT)

    async def PublicAuthSendEmailCode(self, request, context):
        self.record("PublicAuthSendEmailCode", request)
        return auth_pb2.PublicAuthSendEmailCodeResponse(challenge_id="challenge-1")


class RecordingAccountServicerDouble(account_pb2_grpc.AccountServiceServicer, Recorder):
    """Test double of the account service: identity statuses by user id, soft delete."""

    def __init__(self, statuses: dict[str, str] | None = None, *, default: str = "active") -> None:
        Recorder.__init__(self)
        self.statuses = dict(statuses or {})
        self.default = default

    async def ResolveUserIdentity(self, request, context):
        self.record("ResolveUserIdentity", request)
        status = self.statuses.get(request.user_id, self.default)
        if status == "not_found":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such user")
        return account_pb2.ResolveUserIdentityResponse(status=status)

    async def UserAccountDelete(self, request, context):
        self.record("UserAccountDelete", request)
        return empty_pb2.Empty()


def lobby_game_detail(game_id: str = GAME_ID) -> lobby_pb2.LobbyGameDetail:
    return lobby_pb2.LobbyGameDetail(
        game_id=game_id,
        game_name="Andromeda",
        game_type="private",
        status="draft",
        owner_user_id=USER_ID,
        min_players=2,
        max_players=8,
        enrollment_ends_at=CREATED_AT,
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
        current_turn=0,
        visibility="private",
        turn_schedule="0 * * * *",
        target_engine_version="1.2.3",
        start_gap_hours=1,
        start_gap_players=0,
        runtime_status="none",
    )


class RecordingLobbyServicerDouble(lobby_pb2_grpc.LobbyServiceServicer, Recorder):
    """Test double of the lobby service: list, create, get games; get fails with `fail_with`."""

    def __init__(self, fail_with: grpc.StatusCode | None = None, details: str = "") -> None:
        Recorder.__init__(self)
        self.fail_with = fail_with
        self.details = details

    async def UserLobbyGamesList(self, request, context):
        self.record("UserLobbyGamesList", request)
        return lobby_pb2.GameSummaryPage(page=request.page, page_size=request.page_size, total=0)

    async def UserLobbyGamesCreate(self, request, context):
        self.record("UserLobbyGamesCreate", request)
        return lobby_game_detail()

    async def UserLobbyGamesGet(self, request, context):
        self.record("UserLobbyGamesGet", request)
        if self.fail_with is not None:
            await context.abort(self.fail_with, self.details)
        return lobby_game_detail(request.game_id)


class RecordingNotifyServicerDouble(notify_pb2_grpc.NotifyServiceServicer, Recorder):
    """Test double of the notify service: the two literal routes next to `{notification_id}`."""

    def __init__(self) -> None:
        Recorder.__init__(self)

    async def AdminNotificationsListDeadLetters(self, request, context):
        self.record("AdminNotificationsListDeadLetters", request)
        return notify_pb2.NotificationDeadLetterList(page=request.page, page_size=request.page_size)

    async def AdminNotificationsGet(self, request, context):
        self.record("AdminNotificationsGet", request)
        await context.abort(grpc.StatusCode.NOT_FOUND, "notification was not found")


class StreamingNotifyServicerDouble(notify_pb2_grpc.NotifyServiceServicer, Recorder):
    """Test double of notify's push stream: `events` events e-1, e-2, ..., then `then` or an open wait."""

    def __init__(self, events: int, then: grpc.StatusCode | None = None) -> None:
        Recorder.__init__(self)
        self.events = events
        self.then = then
        self.ended = asyncio.Event()

    async def SubscribePush(self, request, context):
        self.record("SubscribePush", request)
        try:
            for n in range(1, self.events + 1):
                yield notify_pb2.PushEvent(event_id=f"e-{n}", user_id="u-1", kind="lobby.game.paused")
            if self.then is not None:
                await context.abort(self.then, "scripted end")
            await asyncio.Event().wait()  # open until the caller goes
        finally:
            self.ended.set()


class RecordingRuntimeServicerDouble(runtime_pb2_grpc.RuntimeServiceServicer, Recorder):
    """Test double of the runtime service: engine pass-through of commands and reports."""

    def __init__(self) -> None:
        Recorder.__init__(self)

    async def UserGamesCommands(self, request, context):
        self.record("UserGamesCommands", request)
        # The body arrives as the client's bytes; echo them inside the reply, verbatim.
        return RawJson(json=b'{"accepted":true,"echo":' + request.body.json + b"}")

    async def UserGamesReport(self, request, context):
        self.record("UserGamesReport", request)
        return RawJson(json=b'{"turn":%d}' % request.turn)


@dataclass
class Downstream:
    """One running fake downstream: its server, servicer and health servicer."""

    service: str
    server: grpc.aio.Server
    servicer: Any
    health: health.aio.HealthServicer
    address: str

    async def set_health(self, status: int) -> None:
        await self.health.set("", status)


@dataclass
class Stack:
    """The app under test, its client, and the seven downstreams behind it."""

    app: Starlette
    client: httpx.AsyncClient
    downstreams: dict[str, Downstream] = field(default_factory=dict)

    @property
    def edge(self) -> Any:
        return self.app.state.edge


@functools.cache
def shared_contract() -> Contract:
    """The contract, parsed once for the whole test session (it is immutable after loading)."""
    return load_contract()


async def start_downstream(service: str, servicer: Any | None = None) -> Downstream:
    servicer = servicer if servicer is not None else base_servicer(service)
    server = grpc.aio.server()
    getattr(stubs(service), f"add_{service.capitalize()}ServiceServicer_to_server")(
        servicer, server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return Downstream(service, server, servicer, health_servicer, f"127.0.0.1:{port}")


@asynccontextmanager
async def edge_stack(
    *, missing: tuple[str, ...] = (), settings: dict[str, Any] | None = None, **servicers: Any
) -> AsyncIterator[Stack]:
    """Start the downstreams (servicer doubles by service name) and the edge in front of them.

    Services named in `missing` get no server at all (their target refuses connections).
    Unless a test passes its own, account is a `RecordingAccountServicerDouble` that
    knows every user as active: the edge refuses every user request while account
    cannot resolve identities (pass `account=base_servicer("account")` for that).
    """
    servicers.setdefault("account", RecordingAccountServicerDouble())
    downstreams: dict[str, Downstream] = {}
    targets: dict[str, str] = {}
    try:
        for service in SERVICES:
            if service in missing:
                targets[service] = "127.0.0.1:1"
                continue
            downstreams[service] = await start_downstream(service, servicers.get(service))
            targets[service] = downstreams[service].address
        options: dict[str, Any] = {
            "push_listen_addr": "127.0.0.1:0",
            "readiness_timeout_seconds": 0.5,
            "rpc_timeout_seconds": 5.0,
            "shutdown_grace_seconds": 0.0,
            # No broker here: the caches have their own tests (test_identity_cache.py,
            # test_session_cache.py, test_admin_cache.py).
            "identity_cache_max_users": 0,
            "session_cache_max_sessions": 0,
            "admin_cache_max_credentials": 0,
            "reply_cache_max_users": 0,
            **{f"{service}_grpc_target": target for service, target in targets.items()},
        }
        edge_settings = EdgeSettings(**{**options, **(settings or {})})
        app = create_app(edge_settings, contract=shared_contract())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
                yield Stack(app=app, client=client, downstreams=downstreams)
    finally:
        for downstream in downstreams.values():
            await downstream.server.stop(0)


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
