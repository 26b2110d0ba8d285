"""Every service as a real process: migrates its own schema, serves health, answers
UNIMPLEMENTED for what it has not built, restarts cleanly, and exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys

import asyncpg
import grpc
import pytest
from galaxy_kit.testing import fast_channel, free_port, wait_until_serving
from google.protobuf import empty_pb2

SERVICES = ["auth", "account", "lobby", "runtime", "mail", "notify", "geo"]
STOP_TIMEOUT_SECONDS = 15


def start(service: str, dsn: str, bootstrap: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "GALAXY_DATABASE_URL": dsn,
        "GALAXY_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GALAXY_GRPC_LISTEN_ADDR": f"127.0.0.1:{port}",
        "GALAXY_LOG_FORMAT": "json",
        # auth refuses to start without one (docs/auth.md); the other services ignore it.
        "GALAXY_AUTH_CODE_PEPPER": "lifecycle-test-pepper-" + "x" * 32,
    }
    return subprocess.Popen(
        [sys.executable, "-m", f"galaxy_{service}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def unbuilt_methods(service: str) -> list[str]:
    """RPCs the service's servicer still inherits from the generated base class."""
    grpc_module = importlib.import_module(f"galaxy.{service}.v1.{service}_pb2_grpc")
    base = getattr(grpc_module, f"{service.capitalize()}ServiceServicer")
    servicer = getattr(importlib.import_module(f"galaxy_{service}.servicer"), f"{service.capitalize()}Servicer")
    return [name for name in vars(base) if not name.startswith("_") and getattr(servicer, name) is vars(base)[name]]


async def call_unary(service: str, channel: grpc.aio.Channel, method_name: str) -> grpc.StatusCode:
    pb2 = importlib.import_module(f"galaxy.{service}.v1.{service}_pb2")
    descriptor = pb2.DESCRIPTOR.services_by_name[f"{service.capitalize()}Service"]
    method = descriptor.methods_by_name[method_name]
    if method.server_streaming:
        call = channel.unary_stream(f"/{descriptor.full_name}/{method.name}",
                                    request_serializer=lambda m: m.SerializeToString())
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for _ in call(empty_pb2.Empty(), timeout=5):
                pass
        return raised.value.code()
    call = channel.unary_unary(
        f"/{descriptor.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=lambda b: b,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(empty_pb2.Empty(), timeout=5)
    return raised.value.code()


async def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS)
    return code, process.stdout.read().decode(errors="replace")


@pytest.mark.parametrize("service", SERVICES)
async def test_service_process_lifecycle(service, fresh_database_dsn, kafka_bootstrap):
    port = free_port()
    for attempt in (1, 2):  # the second start finds its migrations applied
        process = start(service, fresh_database_dsn, kafka_bootstrap, port)
        async with fast_channel(f"127.0.0.1:{port}") as channel:
            try:
                await wait_until_serving(channel, timeout=60)
            except Exception:
                process.kill()
                pytest.fail(f"{service} did not become SERVING:\n{process.stdout.read().decode()[-3000:]}")
            for method_name in unbuilt_methods(service)[:1]:  # none left once a service is complete
                assert await call_unary(service, channel, method_name) == grpc.StatusCode.UNIMPLEMENTED
        code, output = await stop(process)
        assert code == 0, f"{service} exited {code} on SIGTERM (start {attempt}):\n{output[-3000:]}"
        assert "Traceback" not in output, output[-3000:]

    connection = await asyncpg.connect(fresh_database_dsn)
    try:
        version = await connection.fetchval(f'SELECT version_num FROM "{service}".alembic_version')
        other_schemas = await connection.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])",
            [s for s in SERVICES if s != service],
        )
    finally:
        await connection.close()
    assert version is not None
    assert other_schemas == [], "a service must only create its own schema"
