"""AuthService over gRPC: translate messages, call the domain. Methods not built yet answer UNIMPLEMENTED."""

from __future__ import annotations

import grpc
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc

from galaxy_auth.domain.admin_accounts import AdminCredentialChecker


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, admin_checker: AdminCredentialChecker) -> None:
        self._admin_checker = admin_checker

    async def CheckAdminCredentials(
        self, request: auth_pb2.CheckAdminCredentialsRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminPrincipal:
        username = await self._admin_checker.check(request.username, request.password)
        return auth_pb2.AdminPrincipal(username=username)
