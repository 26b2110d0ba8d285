"""Service-tier fixtures of runtime: the real service on a fresh database, real gRPC, real engine processes.

The local-process driver starts the reference engine (`python -m galaxy_engine`) for real; lobby is
not needed here (the proxy's membership check is exercised through the edge in tests/suite).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.testing import free_port, running_service
from galaxy_runtime.app import SERVICE
from galaxy_runtime.settings import RuntimeSettings

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))


@dataclass
class Runtime:
    stub: runtime_pb2_grpc.RuntimeServiceStub
    database_url: str
    settings: RuntimeSettings


def runtime_settings(dsn: str, kafka: str, state_dir: str, **overrides) -> RuntimeSettings:
    return RuntimeSettings(
        database_url=dsn, kafka_bootstrap_servers=kafka, runtime_relay_enabled=False,
        lobby_grpc_target=f"127.0.0.1:{free_port()}", runtime_local_state_dir=state_dir,
        runtime_health_interval_seconds=0.5, runtime_restart_backoff_seconds=0.2,
        runtime_operations_poll_seconds=0.2, **overrides,
    )


@pytest.fixture
async def runtime(fresh_database_dsn, kafka_bootstrap, tmp_path) -> AsyncIterator[Runtime]:
    settings = runtime_settings(fresh_database_dsn, kafka_bootstrap, str(tmp_path / "engines"))
    async with running_service(SERVICE, settings) as service:
        yield Runtime(runtime_pb2_grpc.RuntimeServiceStub(service.channel), fresh_database_dsn, settings)


@pytest.fixture
async def quiet_runtime(fresh_database_dsn, kafka_bootstrap, tmp_path) -> AsyncIterator[Runtime]:
    """The service (migrations applied, gRPC up) with no worker of its own: the test drives the clock."""
    settings = runtime_settings(fresh_database_dsn, kafka_bootstrap, str(tmp_path / "engines"),
                                runtime_workers_enabled=False)
    async with running_service(SERVICE, settings) as service:
        yield Runtime(runtime_pb2_grpc.RuntimeServiceStub(service.channel), fresh_database_dsn, settings)
