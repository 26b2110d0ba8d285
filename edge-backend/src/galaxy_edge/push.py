"""The gRPC push listener the gateway subscribes to (`BACKEND_GRPC_PUSH_LISTEN_ADDR`).

It serves `galaxy.edge.v1.PushService` and `grpc.health.v1.Health` in the
edge's own event loop. `Subscribe` is the server stream over which the gateway
receives what users should be told right away; it is fed by the notify
service's push delivery, which forwards the notifications it decides to push to
this listener. Until that feed exists, `Subscribe` answers UNIMPLEMENTED and the
listener only proves it is bound (one of the conditions of `/readyz`).
"""

from __future__ import annotations

import logging

import grpc
from galaxy.edge.v1 import push_pb2, push_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

PUSH_SERVICE = push_pb2.DESCRIPTOR.services_by_name["PushService"].full_name


class PushServicer(push_pb2_grpc.PushServiceServicer):
    """`galaxy.edge.v1.PushService` of the edge: the gateway's server stream of push events.

    Fed by the notify service's push delivery (the `galaxy.notify.v1.PushEvent`s
    it decides to push); answers UNIMPLEMENTED until that feed is wired to this
    listener.
    """

    async def Subscribe(
        self, request: push_pb2.SubscribeRequest, context: grpc.aio.ServicerContext
    ) -> None:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "push delivery is not implemented yet")


class PushListener:
    """The grpc.aio server of the push listener."""

    def __init__(self, listen_addr: str, servicer: PushServicer | None = None) -> None:
        self.listen_addr = listen_addr
        self.servicer = servicer or PushServicer()
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
        push_pb2_grpc.add_PushServiceServicer_to_server(self.servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        port = server.add_insecure_port(self.listen_addr)
        if port == 0:
            raise RuntimeError(f"cannot bind the push listener on {self.listen_addr}")
        await server.start()
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
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
