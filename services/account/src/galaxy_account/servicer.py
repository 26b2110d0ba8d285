"""AccountService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.account.v1 import account_pb2_grpc


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    pass
