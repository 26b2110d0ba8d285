"""LobbyService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.lobby.v1 import lobby_pb2_grpc


class LobbyServicer(lobby_pb2_grpc.LobbyServiceServicer):
    pass
