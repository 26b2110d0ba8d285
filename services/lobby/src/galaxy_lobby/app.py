"""Wiring of the lobby service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.lobby.v1 import lobby_pb2, lobby_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_lobby.servicer import LobbyServicer
from galaxy_lobby.settings import LobbySettings


def build(context: ServiceContext) -> None:
    lobby_pb2_grpc.add_LobbyServiceServicer_to_server(LobbyServicer(), context.server)


SERVICE = ServiceDefinition(
    name="lobby",
    settings_factory=LobbySettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[lobby_pb2.DESCRIPTOR.services_by_name["LobbyService"].full_name],
    build=build,
)
