"""Wiring of the lobby service: its servicer, its workers, its migrations."""

from __future__ import annotations

from galaxy.lobby.v1 import lobby_pb2_grpc
from galaxy_kit.service import ServiceContext, define_service

from galaxy_lobby.servicer import LobbyServicer
from galaxy_lobby.settings import LobbySettings


def build(context: ServiceContext) -> None:
    lobby_pb2_grpc.add_LobbyServiceServicer_to_server(LobbyServicer(), context.server)


SERVICE = define_service("lobby", settings_factory=LobbySettings, build=build)
