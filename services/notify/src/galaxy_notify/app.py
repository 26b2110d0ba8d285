"""Wiring of the notify service: its servicer, its workers, its migrations."""

from __future__ import annotations

from galaxy.notify.v1 import notify_pb2_grpc
from galaxy_kit.service import ServiceContext, define_service

from galaxy_notify.servicer import NotifyServicer
from galaxy_notify.settings import NotifySettings


def build(context: ServiceContext) -> None:
    notify_pb2_grpc.add_NotifyServiceServicer_to_server(NotifyServicer(), context.server)


SERVICE = define_service("notify", settings_factory=NotifySettings, build=build)
