"""Service-tier fixtures of lobby: the real lobby, account and runtime services on one fresh database, real gRPC.

The real runtime refuses to start an unregistered engine version and to pause a game it never
started, so the tests that need a runtime that agrees (pause, resume) without running engines use
`RuntimeStandInAcceptingEverything`: a fake, and named so.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.lobby.v1 import lobby_pb2_grpc
from galaxy.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from galaxy_account.app import SERVICE as ACCOUNT
from galaxy_account.settings import AccountSettings
from galaxy_kit.testing import free_port, running_service
from galaxy_lobby.app import SERVICE as LOBBY
from galaxy_lobby.settings import LobbySettings
from galaxy_runtime.app import SERVICE as RUNTIME
from galaxy_runtime.settings import RuntimeSettings

# The tests of this directory import lobby_helpers.py (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))


class RuntimeStandInAcceptingEverything(runtime_pb2_grpc.RuntimeServiceServicer):
    """FAKE runtime: accepts every internal call and records it (the real runtime cannot yet)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def _ok(self, op: str, game_id: str) -> runtime_pb2.RuntimeOperation:
        self.calls.append((op, game_id))
        return runtime_pb2.RuntimeOperation(operation_id=str(uuid.uuid4()), game_id=game_id, op=op, status="accepted")

    async def StartRuntime(self, request, context):
        return await self._ok("start", request.game_id)

    async def PauseRuntime(self, request, context):
        return await self._ok("pause", request.game_id)

    async def ResumeRuntime(self, request, context):
        return await self._ok("resume", request.game_id)

    async def StopRuntime(self, request, context):
        return await self._ok("stop", request.game_id)


@dataclass
class Lobby:
    stub: lobby_pb2_grpc.LobbyServiceStub
    account: account_pb2_grpc.AccountServiceStub
    database_url: str
    settings: LobbySettings

    async def user(self, label: str = "pilot") -> str:
        reply = await self.account.EnsureAccountByEmail(account_pb2.EnsureAccountByEmailRequest(
            email=f"{label}-{uuid.uuid4().hex[:10]}@example.test", preferred_language="en", time_zone="UTC"))
        return reply.user_id


async def _lobby(fresh_database_dsn: str, kafka_bootstrap: str, runtime_target: str | None,
                 **overrides) -> AsyncIterator[Lobby]:
    account_settings = AccountSettings(database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap,
                                       account_relay_enabled=False)
    async with (
        running_service(ACCOUNT, account_settings) as account,
        _runtime(fresh_database_dsn, kafka_bootstrap, runtime_target) as target,
    ):
        settings = LobbySettings(
            database_url=fresh_database_dsn, kafka_bootstrap_servers=kafka_bootstrap,
            account_grpc_target=account.address, runtime_grpc_target=target,
            **{"lobby_relay_enabled": False, "lobby_consumers_enabled": False,
               "lobby_scheduler_enabled": False, **overrides},
        )
        async with running_service(LOBBY, settings) as lobby:
            yield Lobby(lobby_pb2_grpc.LobbyServiceStub(lobby.channel),
                        account_pb2_grpc.AccountServiceStub(account.channel), fresh_database_dsn, settings)


class _runtime:
    """The real runtime service, or (given a target) whatever listens there."""

    def __init__(self, dsn: str, kafka: str, target: str | None) -> None:
        self._settings = RuntimeSettings(database_url=dsn, kafka_bootstrap_servers=kafka)
        self._target = target
        self._running = None

    async def __aenter__(self) -> str:
        if self._target is not None:
            return self._target
        self._running = running_service(RUNTIME, self._settings)
        return (await self._running.__aenter__()).address

    async def __aexit__(self, *exc) -> None:
        if self._running is not None:
            await self._running.__aexit__(*exc)


@pytest.fixture
async def lobby(fresh_database_dsn, kafka_bootstrap) -> AsyncIterator[Lobby]:
    """Lobby with the real account and the real (not yet built) runtime."""
    async for running in _lobby(fresh_database_dsn, kafka_bootstrap, None):
        yield running


@pytest.fixture
async def accepting_runtime() -> AsyncIterator[RuntimeStandInAcceptingEverything]:
    servicer = RuntimeStandInAcceptingEverything()
    server = grpc.aio.server()
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(servicer, server)
    servicer.address = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(servicer.address)
    await server.start()
    try:
        yield servicer
    finally:
        await server.stop(0)


@pytest.fixture
async def lobby_with_runtime(fresh_database_dsn, kafka_bootstrap, accepting_runtime) -> AsyncIterator[Lobby]:
    """Lobby whose runtime accepts every call (RuntimeStandInAcceptingEverything)."""
    async for running in _lobby(fresh_database_dsn, kafka_bootstrap, accepting_runtime.address):
        running.runtime = accepting_runtime
        yield running


@pytest.fixture
async def lobby_with_consumers(fresh_database_dsn, kafka_bootstrap, accepting_runtime) -> AsyncIterator[Lobby]:
    """Lobby consuming runtime status and account lifecycle events from the real broker (own consumer groups)."""
    async for running in _lobby(fresh_database_dsn, kafka_bootstrap, accepting_runtime.address,
                                lobby_consumers_enabled=True, lobby_consumer_session_timeout_ms=6000,
                                lobby_consumer_group_prefix=f"lobby-test-{uuid.uuid4().hex[:8]}"):
        running.runtime = accepting_runtime
        running.kafka_bootstrap = kafka_bootstrap
        yield running


@pytest.fixture
async def deps(lobby_with_runtime) -> AsyncIterator:
    """Lobby's domain dependencies in this process, on the same database and services (for `now`-driven calls)."""
    from galaxy_kit.db import Reads, create_engine, session_factory
    from galaxy_kit.testing import fast_channel
    from galaxy_lobby.clients import AccountDirectory, Defaults, RuntimeControl
    from galaxy_lobby.domain.deps import Deps

    settings = lobby_with_runtime.settings
    engine = create_engine(lobby_with_runtime.database_url, pool_size=5)
    reads = Reads(lobby_with_runtime.database_url, max_size=5)
    account_channel = fast_channel(settings.account_grpc_target)
    runtime_channel = fast_channel(settings.runtime_grpc_target)
    try:
        yield Deps(engine=engine, sessions=session_factory(engine), reads=reads,
                   accounts=AccountDirectory(account_channel, timeout=5, defaults=Defaults(10, 10, 50)),
                   runtime=RuntimeControl(runtime_channel, timeout=5))
    finally:
        await account_channel.close()
        await runtime_channel.close()
        await reads.close()
        await engine.dispose()
