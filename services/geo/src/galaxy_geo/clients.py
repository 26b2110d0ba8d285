"""gRPC client of account, as the domain's AccountDirectory (domain/ports.py).

Account down, too slow or answering UNIMPLEMENTED becomes Unavailable (503 at the edge for the
admin read; for the declared-country report, a retry on the user's next batch). NOT_FOUND from
SyncDeclaredCountry means the user is gone. Never let an AioRpcError escape into the servicer.
"""

from __future__ import annotations

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_kit.downstream import downstream_failure

from galaxy_geo.domain.ports import UNKNOWN

class GrpcAccountDirectory:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self._timeout = timeout

    async def identity(self, user_id: str) -> str:
        try:
            reply = await self._stub.ResolveUserIdentity(
                account_pb2.ResolveUserIdentityRequest(user_id=user_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return UNKNOWN
            raise downstream_failure("account", "ResolveUserIdentity", error) from None
        return reply.status

    async def sync_declared_country(self, user_id: str, country: str) -> bool:
        try:
            await self._stub.SyncDeclaredCountry(
                account_pb2.SyncDeclaredCountryRequest(user_id=user_id, declared_country=country),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise downstream_failure("account", "SyncDeclaredCountry", error) from None
        return True
