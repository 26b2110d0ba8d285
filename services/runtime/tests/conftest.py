"""Service-tier fixtures of runtime: the real service on a fresh database, real gRPC, real engine processes.

The local-process driver starts the reference engine (`python -m galaxy_engine`) for real; lobby is
not needed here (the proxy's membership check is exercised through the edge in tests/suite).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from runtime_helpers import Runtime, runtime_settings  # noqa: E402


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
