"""The gRPC push listener the gateway subscribes to (`BACKEND_GRPC_PUSH_LISTEN_ADDR`).

It serves `galaxy.edge.v1.PushService` and `grpc.health.v1.Health` in the
edge's own event loop. `Subscribe` is the server stream over which the gateway
receives what users should be told right away; it is fed by the notify
service's push delivery, which forwards the notifications it decides to push to
this listener. Until that feed exists, `Subscribe` answers UNIMPLEMENTED and the
listener only proves it is bound (one of the conditions of `/readyz`).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

PUSH_STUBS = "galaxy.edge.v1.push_pb2_grpc"
PUSH_SERVICE = "galaxy.edge.v1.PushService"


def _push_servicer() -> Any | None:
    """A PushService servicer built on the generated base class, or None without the stubs."""
    try:
        stubs = importlib.import_module(PUSH_STUBS)
    except ImportError:
        log.warning("%s stubs are missing; the push listener serves health only", PUSH_SERVICE)
        return None

    class PushServicer(stubs.PushServiceServicer):
        """PushService of the edge: the gateway's server stream of pushed notifications.

        Fed by the notify service's push delivery; answers UNIMPLEMENTED until
        that feed is wired to this listener.
        """

        async def Subscribe(self, request: Any, context: grpc.aio.ServicerContext) -> None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "push delivery is not implemented yet")

    servicer = PushServicer()
    servicer.add_to_server = stubs.add_PushServiceServicer_to_server  # type: ignore[attr-defined]
    return servicer


class PushListener:
    """The grpc.aio server of the push listener."""

    def __init__(self, listen_addr: str) -> None:
        self.listen_addr = listen_addr
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()

    @property
    def bound(self) -> bool:
        """True once the listener is bound and serving."""
        return self._server is not None and self.port is not None

    async def start(self) -> None:
        """Bind and start serving; raises RuntimeError when the address cannot be bound."""
        server = grpc.aio.server()
        servicer = _push_servicer()
        if servicer is not None:
            servicer.add_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        port = server.add_insecure_port(self.listen_addr)
        if port == 0:
            raise RuntimeError(f"cannot bind the push listener on {self.listen_addr}")
        await server.start()
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        if servicer is not None:
            await self._health.set(PUSH_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        self.port = port
        log.info("push listener bound on %s (port %d)", self.listen_addr, port)

    async def stop(self, grace: float | None) -> None:
        """Report NOT_SERVING, then stop, letting open streams finish for `grace` seconds."""
        server, self._server = self._server, None
        if server is None:
            return
        await self._health.enter_graceful_shutdown()
        await server.stop(grace)
        self.port = None
