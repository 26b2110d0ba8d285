"""NotifyService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.notify.v1 import notify_pb2_grpc


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    pass
