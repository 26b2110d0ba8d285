"""Wiring of the runtime service: its servicer, its workers, its migrations."""

from __future__ import annotations

from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.service import ServiceContext, define_service

from galaxy_runtime.servicer import RuntimeServicer
from galaxy_runtime.settings import RuntimeSettings


def build(context: ServiceContext) -> None:
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(RuntimeServicer(), context.server)


SERVICE = define_service("runtime", settings_factory=RuntimeSettings, build=build)
