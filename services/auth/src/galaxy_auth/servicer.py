"""AuthService over gRPC: translate messages, call the domain. Nothing else lives here."""

from __future__ import annotations

from datetime import timedelta

import grpc
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy_kit.db import Reads
from galaxy_kit.proto import timestamp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.domain import admin_accounts, sign_in
from galaxy_auth.domain import sessions as device_sessions
from galaxy_auth.domain.admin_accounts import AdminCredentialChecker
from galaxy_auth.domain.login_mail import LoginMailDispatcher
from galaxy_auth.domain.ports import AccountDirectory
from galaxy_auth.domain.sign_in import SignInPolicy
from galaxy_auth.repository.admin_accounts import AdminAccountRow
from galaxy_auth.repository.sessions import DeviceSessionRow


def _device_session(row: DeviceSessionRow) -> auth_pb2.DeviceSession:
    message = auth_pb2.DeviceSession(
        device_session_id=str(row.device_session_id),
        user_id=str(row.user_id),
        status=row.status,
        client_public_key=row.client_public_key,
        created_at=timestamp(row.created_at),
    )
    if row.revoked_at is not None:
        message.revoked_at.CopyFrom(timestamp(row.revoked_at))
    if row.last_seen_at is not None:
        message.last_seen_at.CopyFrom(timestamp(row.last_seen_at))
    return message


def _admin_account(row: AdminAccountRow) -> auth_pb2.AdminAccount:
    """Never carries the password hash."""
    message = auth_pb2.AdminAccount(username=row.username, created_at=timestamp(row.created_at))
    if row.last_used_at is not None:
        message.last_used_at.CopyFrom(timestamp(row.last_used_at))
    if row.disabled_at is not None:
        message.disabled_at.CopyFrom(timestamp(row.disabled_at))
    return message


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        admin_checker: AdminCredentialChecker,
        admin_bcrypt_rounds: int,
        policy: SignInPolicy,
        accounts: AccountDirectory,
        login_mail: LoginMailDispatcher,
        reads: Reads,
        last_seen_resolution: timedelta = device_sessions.LAST_SEEN_RESOLUTION,
    ) -> None:
        self._sessions = sessions
        self._admin_checker = admin_checker
        self._rounds = admin_bcrypt_rounds
        self._policy = policy
        self._accounts = accounts
        self._login_mail = login_mail
        self._reads = reads
        self._last_seen_resolution = last_seen_resolution

    # ---- Sign-in ----

    async def PublicAuthSendEmailCode(
        self, request: auth_pb2.PublicAuthSendEmailCodeRpcRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.PublicAuthSendEmailCodeResponse:
        body = request.body
        challenge_id = await sign_in.send_email_code(
            reads=self._reads,
            policy=self._policy,
            accounts=self._accounts,
            login_mail=self._login_mail,
            email=body.email,
            locale=body.locale if body.HasField("locale") else None,
            accept_language=request.accept_language if request.HasField("accept_language") else None,
        )
        return auth_pb2.PublicAuthSendEmailCodeResponse(challenge_id=str(challenge_id))

    async def PublicAuthConfirmEmailCode(
        self, request: auth_pb2.PublicAuthConfirmEmailCodeRpcRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.PublicAuthConfirmEmailCodeResponse:
        body = request.body
        device_session_id = await sign_in.confirm_email_code(
            reads=self._reads,
            policy=self._policy,
            accounts=self._accounts,
            challenge_id=body.challenge_id,
            code=body.code,
            client_public_key=body.client_public_key,
            time_zone=body.time_zone,
        )
        return auth_pb2.PublicAuthConfirmEmailCodeResponse(device_session_id=str(device_session_id))

    # ---- Device sessions ----

    async def UserSessionsList(
        self, request: auth_pb2.UserSessionsListRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.UserSessionList:
        rows = await device_sessions.list_sessions(sessions=self._sessions, user_id=request.user_id)
        return auth_pb2.UserSessionList(items=[_device_session(row) for row in rows])

    async def UserSessionsRevoke(
        self, request: auth_pb2.UserSessionsRevokeRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeviceSession:
        row = await device_sessions.revoke_session(
            sessions=self._sessions, user_id=request.user_id, device_session_id=request.device_session_id
        )
        return _device_session(row)

    async def UserSessionsRevokeAll(
        self, request: auth_pb2.UserSessionsRevokeAllRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeviceSessionRevocationSummary:
        summary = await device_sessions.revoke_all_sessions(sessions=self._sessions, user_id=request.user_id)
        return auth_pb2.DeviceSessionRevocationSummary(
            user_id=str(summary.user_id), revoked_count=summary.revoked_count
        )

    async def InternalSessionsGet(
        self, request: auth_pb2.InternalSessionsGetRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeviceSession:
        row = await device_sessions.get_session(
            reads=self._reads,
            sessions=self._sessions,
            device_session_id=request.device_session_id,
            last_seen_resolution=self._last_seen_resolution,
        )
        return _device_session(row)

    # ---- Administrator accounts ----

    async def AdminAdminAccountsList(
        self, request: auth_pb2.AdminAdminAccountsListRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccountList:
        rows = await admin_accounts.list_admin_accounts(reads=self._reads)
        return auth_pb2.AdminAccountList(items=[_admin_account(row) for row in rows])

    async def AdminAdminAccountsCreate(
        self, request: auth_pb2.AdminAdminAccountsCreateRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccount:
        row = await admin_accounts.create_admin_account(
            sessions=self._sessions,
            username=request.body.username,
            password=request.body.password,
            rounds=self._rounds,
            actor=request.admin_username,
        )
        return _admin_account(row)

    async def AdminAdminAccountsGet(
        self, request: auth_pb2.AdminAdminAccountsGetRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccount:
        return _admin_account(
            await admin_accounts.get_admin_account(reads=self._reads, username=request.username)
        )

    async def AdminAdminAccountsDisable(
        self, request: auth_pb2.AdminAdminAccountsDisableRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccount:
        row = await admin_accounts.disable_admin_account(
            sessions=self._sessions,
            checker=self._admin_checker,
            username=request.username,
            actor=request.admin_username,
        )
        return _admin_account(row)

    async def AdminAdminAccountsEnable(
        self, request: auth_pb2.AdminAdminAccountsEnableRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccount:
        row = await admin_accounts.enable_admin_account(
            sessions=self._sessions, username=request.username, actor=request.admin_username
        )
        return _admin_account(row)

    async def AdminAdminAccountsResetPassword(
        self, request: auth_pb2.AdminAdminAccountsResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminAccount:
        row = await admin_accounts.reset_admin_password(
            sessions=self._sessions,
            checker=self._admin_checker,
            username=request.username,
            password=request.body.password,
            rounds=self._rounds,
            actor=request.admin_username,
        )
        return _admin_account(row)

    # ---- Internal ----

    async def CheckAdminCredentials(
        self, request: auth_pb2.CheckAdminCredentialsRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AdminPrincipal:
        username = await self._admin_checker.check(request.username, request.password, request.client_address)
        return auth_pb2.AdminPrincipal(username=username)
