"""Wiring of the notify service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.notify.v1 import notify_pb2, notify_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_notify.servicer import NotifyServicer
from galaxy_notify.settings import NotifySettings


def build(context: ServiceContext) -> None:
    notify_pb2_grpc.add_NotifyServiceServicer_to_server(NotifyServicer(), context.server)


SERVICE = ServiceDefinition(
    name="notify",
    settings_factory=NotifySettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name],
    build=build,
)
