"""Wiring of the geo service: its servicer, its workers, its migrations."""

from __future__ import annotations

from galaxy.geo.v1 import geo_pb2_grpc
from galaxy_kit.service import ServiceContext, define_service

from galaxy_geo.servicer import GeoServicer
from galaxy_geo.settings import GeoSettings


def build(context: ServiceContext) -> None:
    geo_pb2_grpc.add_GeoServiceServicer_to_server(GeoServicer(), context.server)


SERVICE = define_service("geo", settings_factory=GeoSettings, build=build)
