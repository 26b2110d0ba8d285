"""gRPC client of account, as the domain's AccountDirectory (domain/ports.py).

Account down, too slow or answering UNIMPLEMENTED becomes Unavailable (503 at the edge for the
admin read; for the declared-country report, a retry on the user's next batch). NOT_FOUND from
SyncDeclaredCountry means the user is gone. Never let an AioRpcError escape into the servicer.
"""

from __future__ import annotations

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_kit.errors import Unavailable
from galaxy_kit.logging import get_logger

from galaxy_geo.domain.ports import UNKNOWN

log = get_logger(__name__)


class DownstreamError(RuntimeError):
    """Account answered something geo cannot act on (a bug somewhere); becomes INTERNAL."""


def _failure(method: str, error: grpc.aio.AioRpcError) -> Exception:
    if error.code() in (
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
    ):
        log.warning(
            "downstream_unavailable", service="account", method=method, code=error.code().name
        )
        return Unavailable("the account service is unavailable, try again later")
    log.error(
        "downstream_failed",
        service="account",
        method=method,
        code=error.code().name,
        details=error.details(),
    )
    return DownstreamError(f"account.{method} answered {error.code().name}")


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
            raise _failure("ResolveUserIdentity", error) from None
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
            raise _failure("SyncDeclaredCountry", error) from None
        return True
