"""Wiring of the geo service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.geo.v1 import geo_pb2, geo_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_geo.servicer import GeoServicer
from galaxy_geo.settings import GeoSettings


def build(context: ServiceContext) -> None:
    geo_pb2_grpc.add_GeoServiceServicer_to_server(GeoServicer(), context.server)


SERVICE = ServiceDefinition(
    name="geo",
    settings_factory=GeoSettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[geo_pb2.DESCRIPTOR.services_by_name["GeoService"].full_name],
    build=build,
)
