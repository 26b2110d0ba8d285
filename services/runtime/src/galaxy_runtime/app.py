"""Wiring of the runtime service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_runtime.servicer import RuntimeServicer
from galaxy_runtime.settings import RuntimeSettings


def build(context: ServiceContext) -> None:
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(RuntimeServicer(), context.server)


SERVICE = ServiceDefinition(
    name="runtime",
    settings_factory=RuntimeSettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[runtime_pb2.DESCRIPTOR.services_by_name["RuntimeService"].full_name],
    build=build,
)
