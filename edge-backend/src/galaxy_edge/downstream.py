"""The seven downstream services: who owns which route, how their RPCs are found, channels, health.

Finding the RPC of an operation is generic (docs/contracts.md): the owner of
the route is looked up in `OWNERSHIP` (longest matching route prefix), its
service is `galaxy.<owner>.v1.<Owner>Service` in the generated descriptors of
`galaxy-contracts`, and the method is the operationId with its first letter
upper-cased. Request and response classes come from the method's descriptor,
so no operation has code of its own. An operation whose RPC does not exist (yet)
in the stubs answers `501 not_implemented`, like an RPC the service has not
built.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from galaxy_kit.grpc_client import insecure_channel
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

log = logging.getLogger(__name__)

#: The downstream services, in the order of their default ports (50051..50057).
SERVICES = ("auth", "account", "lobby", "runtime", "mail", "notify", "geo")

#: Operations the edge answers itself.
EDGE = "edge"

#: Route prefix → owner (docs/architecture.md "Ownership", ARCHITECTURE.md table).
#: A prefix matches a path equal to it or continuing with "/"; the longest wins.
OWNERSHIP: tuple[tuple[str, str], ...] = (
    ("/healthz", EDGE),
    ("/readyz", EDGE),
    ("/api/v1/public/auth", "auth"),
    ("/api/v1/user/sessions", "auth"),
    ("/api/v1/internal/sessions", "auth"),
    ("/api/v1/admin/admin-accounts", "auth"),
    ("/api/v1/user/account", "account"),
    ("/api/v1/admin/users", "account"),
    ("/api/v1/internal/users", "account"),
    ("/api/v1/user/lobby", "lobby"),
    ("/api/v1/admin/games", "lobby"),
    ("/api/v1/user/games", "runtime"),
    ("/api/v1/admin/runtimes", "runtime"),
    ("/api/v1/admin/engine-versions", "runtime"),
    ("/api/v1/admin/mail", "mail"),
    ("/api/v1/admin/notifications", "notify"),
    ("/api/v1/admin/geo", "geo"),
)

#: Internal RPCs the edge itself calls.
AUTH_CHECK_ADMIN = ("auth", "CheckAdminCredentials")
ACCOUNT_RESOLVE_IDENTITY = ("account", "ResolveUserIdentity")

HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"


def owner_of(path: str) -> str:
    """The owner of a contract path; ValueError when no prefix claims it."""
    best: tuple[int, str] | None = None
    for prefix, owner in OWNERSHIP:
        if (path == prefix or path.startswith(prefix + "/")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), owner)
    if best is None:
        raise ValueError(f"no owner for contract path {path!r}")
    return best[1]


def service_full_name(service: str) -> str:
    """`lobby` → `galaxy.lobby.v1.LobbyService`."""
    return f"galaxy.{service}.v1.{service.capitalize()}Service"


def _import_stubs(service: str) -> None:
    """Import every generated module of `galaxy.<service>.v1` so its descriptors are registered."""
    package_name = f"galaxy.{service}.v1"
    try:
        package = importlib.import_module(package_name)
    except ImportError:
        return
    for module in pkgutil.iter_modules(getattr(package, "__path__", [])):
        if module.name.endswith("_pb2"):
            importlib.import_module(f"{package_name}.{module.name}")


@functools.cache
def find_service(service: str) -> ServiceDescriptor | None:
    """The generated descriptor of a downstream service, None when the stubs do not define it."""
    _import_stubs(service)
    try:
        return descriptor_pool.Default().FindServiceByName(service_full_name(service))
    except KeyError:
        return None


@dataclass(frozen=True, slots=True)
class Rpc:
    """One unary RPC of a downstream service, resolved from the descriptors."""

    service: str
    name: str
    full_method: str  # "/galaxy.lobby.v1.LobbyService/UserLobbyGamesGet"
    request_class: type[Message]
    response_class: type[Message]

    @property
    def returns_empty(self) -> bool:
        return self.response_class.DESCRIPTOR.full_name == "google.protobuf.Empty"


def find_rpc(service: str, name: str) -> Rpc | None:
    """The unary RPC `name` of `service`, or None when the stubs do not define it."""
    descriptor = find_service(service)
    if descriptor is None:
        return None
    method: MethodDescriptor | None = descriptor.methods_by_name.get(name)
    if method is None:
        return None
    if method.client_streaming or method.server_streaming:
        log.warning(
            "rpc %s/%s is streaming; the edge only calls unary RPCs", descriptor.full_name, name
        )
        return None
    return Rpc(
        service=service,
        name=name,
        full_method=f"/{descriptor.full_name}/{name}",
        request_class=message_factory.GetMessageClass(method.input_type),
        response_class=message_factory.GetMessageClass(method.output_type),
    )


UnaryCall = Callable[..., Any]


class Downstreams:
    """One grpc.aio channel per downstream service, opened in the running loop and reused."""

    def __init__(self, targets: dict[str, str], *, timeout: float) -> None:
        self.targets = dict(targets)
        self.timeout = timeout
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._calls: dict[str, UnaryCall] = {}
        self._health: dict[str, UnaryCall] = {}

    async def open(self) -> None:
        """Create the channels (lazy: they connect on first use)."""
        for service, target in self.targets.items():
            channel = insecure_channel(target)
            self._channels[service] = channel
            self._health[service] = channel.unary_unary(
                HEALTH_CHECK_METHOD,
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )

    async def close(self, grace: float | None = None) -> None:
        """Close every channel."""
        channels, self._channels = self._channels, {}
        self._calls.clear()
        self._health.clear()
        await asyncio.gather(*(c.close(grace) for c in channels.values()), return_exceptions=True)

    def channel(self, service: str) -> grpc.aio.Channel:
        """The open channel of a service (for the calls that are not unary: the push relay)."""
        return self._channels[service]

    def callable_for(self, rpc: Rpc) -> UnaryCall:
        """The multi-callable of an RPC on its service's channel (built once, then cached)."""
        call = self._calls.get(rpc.full_method)
        if call is None:
            channel = self._channels[rpc.service]
            call = channel.unary_unary(
                rpc.full_method,
                request_serializer=rpc.request_class.SerializeToString,
                response_deserializer=rpc.response_class.FromString,
                # Registered with the channel once, as generated stubs do: gRPC's core then
                # skips interning the method path on every call.
                _registered_method=True,
            )
            self._calls[rpc.full_method] = call
        return call

    async def call(self, rpc: Rpc, request: Message) -> Message:
        """Call `rpc` with the configured deadline; grpc.aio.AioRpcError on failure."""
        return await self.callable_for(rpc)(request, timeout=self.timeout)

    async def call_with_trailers(self, rpc: Rpc, request: Message) -> tuple[Message, Any]:
        """`call`, and the reply's trailing metadata (what a service says about keeping it)."""
        call = self.callable_for(rpc)(request, timeout=self.timeout)
        reply = await call
        return reply, await call.trailing_metadata()

    async def check_health(self, timeout: float) -> dict[str, str]:
        """Every downstream's `grpc.health.v1` overall status, checked concurrently."""

        async def one(service: str) -> tuple[str, str]:
            try:
                reply = await self._health[service](
                    health_pb2.HealthCheckRequest(service=""), timeout=timeout
                )
            except grpc.aio.AioRpcError as error:
                return service, f"unreachable ({error.code().name})"
            return service, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

        if not self._health:
            return {service: "unreachable (not started)" for service in self.targets}
        results = await asyncio.gather(*(one(s) for s in self.targets))
        return dict(results)
