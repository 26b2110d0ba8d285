"""Liveness, readiness (downstreams SERVING, push listener bound) and the push listener."""

from __future__ import annotations

import grpc
import pytest
from edge_doubles import NOT_SERVING, SERVING, StreamingNotifyServicerDouble, edge_stack
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


async def test_the_push_listener_serves_health_and_relays_notify_s_status() -> None:
    async with edge_stack() as stack:  # notify's base servicer: SubscribePush is UNIMPLEMENTED
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


async def test_a_gateway_subscription_is_relayed_to_notify_and_its_events_come_back() -> None:
    notify = StreamingNotifyServicerDouble(events=3)
    async with edge_stack(notify=notify) as stack, _push_channel(stack) as channel:
        push = push_pb2_grpc.PushServiceStub(channel)
        call = push.Subscribe(push_pb2.SubscribeRequest(gateway_id="gw-7", last_event_id="e-0"))
        received = [await call.read() for _ in range(3)]
        call.cancel()
        await notify.ended.wait()  # the gateway leaving ends notify's stream too

        refused = push.Subscribe(push_pb2.SubscribeRequest(gateway_id=" "), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for _ in refused:
                pass
    assert [e.event_id for e in received] == ["e-1", "e-2", "e-3"]
    assert [(r.consumer_id, r.last_event_id) for r in notify.requests("SubscribePush")] == [("gw-7", "e-0")]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert notify.requests("SubscribePush")[1:] == []


async def test_notify_ending_a_stream_ends_the_gateway_s_with_its_status() -> None:
    notify = StreamingNotifyServicerDouble(events=1, then=grpc.StatusCode.INVALID_ARGUMENT)
    async with edge_stack(notify=notify) as stack, _push_channel(stack) as channel:
        call = push_pb2_grpc.PushServiceStub(channel).Subscribe(
            push_pb2.SubscribeRequest(gateway_id="gw-8", last_event_id="unknown"), timeout=5
        )
        received = []
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for event in call:
                received.append(event.event_id)
    assert received == ["e-1"]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "scripted end"


def _push_channel(stack) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{stack.edge.push.port}")
