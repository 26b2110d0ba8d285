"""GeoService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.geo.v1 import geo_pb2_grpc


class GeoServicer(geo_pb2_grpc.GeoServiceServicer):
    pass
