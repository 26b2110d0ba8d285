"""The gRPC push listener the gateway subscribes to (`BACKEND_GRPC_PUSH_LISTEN_ADDR`).

It serves `galaxy.edge.v1.PushService` and `grpc.health.v1.Health` in the
edge's own event loop. `Subscribe` is the server stream over which the gateway
receives what users should be told right away. The edge keeps nothing: each
gateway subscription is relayed to one `NotifyService/SubscribePush` stream on
the edge's notify channel (consumer id = the gateway id, the gateway's
`last_event_id` passed on), and every event notify sends is written to the
gateway as it comes. Notify decides what each consumer gets and keeps its
position (docs/notify.md, "Push"); a stream that ends on either side ends the
other, with notify's status passed through, and the gateway subscribes again
with the last event id it saw.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import grpc
from galaxy.edge.v1 import push_pb2, push_pb2_grpc
from galaxy.notify.v1 import notify_pb2, notify_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

PUSH_SERVICE = push_pb2.DESCRIPTOR.services_by_name["PushService"].full_name

#: The longest gateway id relayed (it names a consumer at notify).
MAX_GATEWAY_ID_LENGTH = 200


class PushServicer(push_pb2_grpc.PushServiceServicer):
    """`galaxy.edge.v1.PushService` of the edge: the gateway's server stream of push events.

    `notify_channel` returns the edge's channel to notify (opened with the other
    downstream channels, so it exists only while the edge runs).
    """

    def __init__(self, notify_channel: Callable[[], grpc.aio.Channel] | None = None) -> None:
        self._notify_channel = notify_channel

    async def Subscribe(
        self, request: push_pb2.SubscribeRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[notify_pb2.PushEvent]:
        if self._notify_channel is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "push delivery is not wired")
        gateway_id = request.gateway_id.strip()
        if not gateway_id or len(gateway_id) > MAX_GATEWAY_ID_LENGTH:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"gateway_id must be 1 to {MAX_GATEWAY_ID_LENGTH} characters",
            )
        stub = notify_pb2_grpc.NotifyServiceStub(self._notify_channel())
        upstream = stub.SubscribePush(notify_pb2.SubscribePushRequest(
            consumer_id=gateway_id, last_event_id=request.last_event_id,
        ))
        log.info("push subscription of gateway %s relayed to notify", gateway_id)
        try:
            async for event in upstream:
                yield event
        except grpc.aio.AioRpcError as error:
            log.info("push stream of gateway %s ended by notify: %s", gateway_id, error.code().name)
            await context.abort(error.code(), error.details() or "push stream ended")
        finally:
            upstream.cancel()  # the gateway left: end notify's stream too, releasing the consumer


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
