"""What runtime's service tests share besides fixtures: the service handle and its test settings.

A module of its own, not conftest.py: tests import these names, and `conftest` is not a unique
module name in this repository (tests/suite has one too), so `from conftest import ...` can bind
the other directory's module depending on what pytest collected first.
"""

from __future__ import annotations

from dataclasses import dataclass

from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.testing import free_port
from galaxy_runtime.settings import RuntimeSettings


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
