"""RuntimeService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.runtime.v1 import runtime_pb2_grpc


class RuntimeServicer(runtime_pb2_grpc.RuntimeServiceServicer):
    pass
