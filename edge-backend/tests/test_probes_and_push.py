"""Liveness, readiness (downstreams SERVING, push listener bound) and the push listener."""

from __future__ import annotations

import grpc
import pytest
from edge_doubles import NOT_SERVING, SERVING, edge_stack
from galaxy.edge.v1 import push_pb2, push_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def test_healthz_is_ok() -> None:
    async with edge_stack(missing=("lobby",)) as stack:
        response = await stack.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_until_every_downstream_is_serving_then_200() -> None:
    async with edge_stack() as stack:
        await stack.downstreams["lobby"].set_health(NOT_SERVING)
        await stack.downstreams["geo"].set_health(NOT_SERVING)
        waiting = await stack.client.get("/readyz")
        await stack.downstreams["lobby"].set_health(SERVING)
        still_waiting = await stack.client.get("/readyz")
        await stack.downstreams["geo"].set_health(SERVING)
        ready = await stack.client.get("/readyz")
    assert waiting.status_code == 503
    assert waiting.json()["error"]["code"] == "service_unavailable"
    assert "lobby NOT_SERVING" in waiting.json()["error"]["message"]
    assert "geo NOT_SERVING" in waiting.json()["error"]["message"]
    assert still_waiting.status_code == 503
    assert "lobby" not in still_waiting.json()["error"]["message"]
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readyz_is_503_while_a_downstream_is_unreachable() -> None:
    async with edge_stack(missing=("mail",)) as stack:
        response = await stack.client.get("/readyz")
    assert response.status_code == 503
    assert "mail unreachable" in response.json()["error"]["message"]


async def test_readyz_is_503_once_the_push_listener_is_gone() -> None:
    async with edge_stack() as stack:
        ready = await stack.client.get("/readyz")
        await stack.edge.push.stop(0)
        gone = await stack.client.get("/readyz")
    assert ready.status_code == 200
    assert gone.status_code == 503
    assert "push listener not bound" in gone.json()["error"]["message"]


async def test_the_push_listener_serves_health_and_the_push_service() -> None:
    async with edge_stack() as stack:
        port = stack.edge.push.port
        assert port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            push = await health.Check(
                health_pb2.HealthCheckRequest(service="galaxy.edge.v1.PushService"), timeout=5
            )
            stream = push_pb2_grpc.PushServiceStub(channel).Subscribe(
                push_pb2.SubscribeRequest(gateway_id="gw-1"), timeout=5
            )
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                async for _ in stream:
                    pass
    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert push.status == health_pb2.HealthCheckResponse.SERVING
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
