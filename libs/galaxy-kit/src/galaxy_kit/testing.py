"""Test helpers: run a real service in-process on a real gRPC port against a real database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from galaxy_kit.service import ServiceDefinition, serve
from galaxy_kit.settings import ServiceSettings

STARTUP_TIMEOUT_SECONDS = 30.0
#: Channels to a server that is still starting retry quickly instead of gRPC's default 1 s+ backoff.
FAST_RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 200),
]


def fast_channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=FAST_RECONNECT_OPTIONS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_serving(channel: grpc.aio.Channel, *, timeout: float = STARTUP_TIMEOUT_SECONDS,
                             task: asyncio.Task | None = None) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if task is not None and task.done():
            task.result()  # re-raise why the service died
            raise RuntimeError("service stopped before it was ready")
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("service did not become SERVING")
        await asyncio.sleep(0.05)


@dataclass
class RunningService:
    address: str
    channel: grpc.aio.Channel
    settings: ServiceSettings


@asynccontextmanager
async def running_service(definition: ServiceDefinition, settings: ServiceSettings) -> AsyncIterator[RunningService]:
    """Start `definition` with `settings` (pick a free port), yield once SERVING, stop on exit."""
    if not settings.grpc_listen_addr:
        settings.grpc_listen_addr = f"127.0.0.1:{free_port()}"
    stop = asyncio.Event()
    task = asyncio.create_task(serve(definition, settings, stop_event=stop))
    channel = fast_channel(settings.grpc_listen_addr)
    try:
        await wait_until_serving(channel, task=task)
        yield RunningService(settings.grpc_listen_addr, channel, settings)
    finally:
        stop.set()
        await channel.close()
        await asyncio.wait_for(task, timeout=STARTUP_TIMEOUT_SECONDS)
