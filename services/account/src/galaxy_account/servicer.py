"""AccountService over gRPC: translate messages, call the domain. Nothing else lives here."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_kit.caching import cacheable_metadata
from galaxy_kit.db import Reads
from galaxy_kit.proto import timestamp
from google.protobuf.empty_pb2 import Empty
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_account.domain import accounts, grants
from galaxy_account.domain.aggregate import Actor, Aggregate

Context = grpc.aio.ServicerContext



def _datetime(message, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=UTC)


def _actor(actor: Actor) -> account_pb2.ActorRef:
    message = account_pb2.ActorRef(type=actor.type)
    if actor.id is not None:
        message.id = actor.id
    return message


def account_message(aggregate: Aggregate) -> account_pb2.Account:
    row = aggregate.account
    snap = aggregate.entitlement
    entitlement = account_pb2.EntitlementSnapshot(
        plan_code=snap.plan_code,
        is_paid=snap.is_paid,
        source=snap.source,
        actor=_actor(snap.actor),
        reason_code=snap.reason_code,
        starts_at=timestamp(snap.starts_at),
        max_registered_race_names=snap.max_registered_race_names,
        updated_at=timestamp(snap.updated_at),
    )
    if snap.ends_at is not None:
        entitlement.ends_at.CopyFrom(timestamp(snap.ends_at))
    message = account_pb2.Account(
        user_id=str(row.user_id),
        email=row.email,
        user_name=row.user_name,
        preferred_language=row.preferred_language,
        time_zone=row.time_zone,
        entitlement=entitlement,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )
    if row.display_name is not None:
        message.display_name = row.display_name
    if row.declared_country is not None:
        message.declared_country = row.declared_country
    for s in aggregate.active_sanctions:
        sanction = message.active_sanctions.add(
            sanction_code=s.sanction_code, scope=s.scope, reason_code=s.reason_code,
            actor=_actor(Actor(s.actor_type, s.actor_id)), applied_at=timestamp(s.applied_at),
        )
        if s.expires_at is not None:
            sanction.expires_at.CopyFrom(timestamp(s.expires_at))
    for lim in aggregate.active_limits:
        limit = message.active_limits.add(
            limit_code=lim.limit_code, value=lim.value, reason_code=lim.reason_code,
            actor=_actor(Actor(lim.actor_type, lim.actor_id)), applied_at=timestamp(lim.applied_at),
        )
        if lim.expires_at is not None:
            limit.expires_at.CopyFrom(timestamp(lim.expires_at))
    return message


def _response(aggregate: Aggregate) -> account_pb2.AccountResponse:
    return account_pb2.AccountResponse(account=account_message(aggregate))


def _actor_fields(actor: account_pb2.ActorRef) -> tuple[str, str | None]:
    return actor.type, actor.id if actor.HasField("id") else None


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], reads: Reads, read_cache_seconds: float = 0.0
    ) -> None:
        self._sessions = sessions
        self._reads = reads
        self._read_cache_seconds = read_cache_seconds

    # ---- user ----

    async def UserAccountGet(self, request: account_pb2.UserAccountGetRequest, context: Context):
        found = await accounts.user_get(reads=self._reads, user_id=request.user_id)
        # The caller may keep this answer until it changes with no write (an AccountChanged
        # event announces every write): galaxy_kit.caching.
        context.set_trailing_metadata(
            cacheable_metadata(accounts.cacheable_seconds(found, self._read_cache_seconds))
        )
        return _response(found)

    async def UserAccountUpdateProfile(self, request: account_pb2.UserAccountUpdateProfileRequest, context: Context):
        body = request.body
        return _response(await accounts.update_profile(
            sessions=self._sessions, user_id=request.user_id,
            display_name=body.display_name if body.HasField("display_name") else None,
        ))

    async def UserAccountUpdateSettings(
        self, request: account_pb2.UserAccountUpdateSettingsRequest, context: Context
    ):
        body = request.body
        return _response(await accounts.update_settings(
            sessions=self._sessions, user_id=request.user_id,
            preferred_language=body.preferred_language if body.HasField("preferred_language") else None,
            time_zone=body.time_zone if body.HasField("time_zone") else None,
        ))

    async def UserAccountDelete(self, request: account_pb2.UserAccountDeleteRequest, context: Context):
        await accounts.delete_by_user(sessions=self._sessions, user_id=request.user_id)
        return Empty()

    # ---- admin ----

    async def AdminUsersList(self, request: account_pb2.AdminUsersListRequest, context: Context):
        page = request.page or 1
        page_size = request.page_size or 50
        items, total = await accounts.admin_list(sessions=self._sessions, page=page, page_size=page_size)
        return account_pb2.AdminUserList(
            items=[account_message(a) for a in items], page=page, page_size=page_size, total=total
        )

    async def AdminUsersGet(self, request: account_pb2.AdminUsersGetRequest, context: Context):
        return _response(await accounts.admin_get(reads=self._reads, user_id=request.user_id))

    async def AdminUsersAddSanction(self, request: account_pb2.AdminUsersAddSanctionRequest, context: Context):
        body = request.body
        actor_type, actor_id = _actor_fields(body.actor)
        return _response(await grants.add_sanction(
            sessions=self._sessions, admin_username=request.admin_username, user_id=request.user_id,
            sanction_code=body.sanction_code, scope=body.scope, reason_code=body.reason_code,
            actor_type=actor_type, actor_id=actor_id, expires_at=_datetime(body, "expires_at"),
        ))

    async def AdminUsersAddLimit(self, request: account_pb2.AdminUsersAddLimitRequest, context: Context):
        body = request.body
        actor_type, actor_id = _actor_fields(body.actor)
        return _response(await grants.add_limit(
            sessions=self._sessions, admin_username=request.admin_username, user_id=request.user_id,
            limit_code=body.limit_code, value=body.value, reason_code=body.reason_code,
            actor_type=actor_type, actor_id=actor_id, expires_at=_datetime(body, "expires_at"),
        ))

    async def AdminUsersAddEntitlement(
        self, request: account_pb2.AdminUsersAddEntitlementRequest, context: Context
    ):
        body = request.body
        actor_type, actor_id = _actor_fields(body.actor)
        return _response(await grants.add_entitlement(
            sessions=self._sessions, admin_username=request.admin_username, user_id=request.user_id,
            tier=body.tier, source=body.source, actor_type=actor_type, actor_id=actor_id,
            reason_code=body.reason_code if body.HasField("reason_code") else None,
            starts_at=_datetime(body, "starts_at"), ends_at=_datetime(body, "ends_at"),
        ))

    async def AdminUsersSoftDelete(self, request: account_pb2.AdminUsersSoftDeleteRequest, context: Context):
        await accounts.admin_soft_delete(
            sessions=self._sessions, admin_username=request.admin_username, user_id=request.user_id
        )
        return Empty()

    # ---- internal ----

    async def InternalUsersGetAccountInternal(
        self, request: account_pb2.InternalUsersGetAccountInternalRequest, context: Context
    ):
        return _response(await accounts.admin_get(reads=self._reads, user_id=request.user_id))

    async def EnsureAccountByEmail(self, request: account_pb2.EnsureAccountByEmailRequest, context: Context):
        ensured = await accounts.ensure_by_email(
            reads=self._reads, email=request.email,
            preferred_language=request.preferred_language, time_zone=request.time_zone,
        )
        reply = account_pb2.EnsureAccountByEmailResponse(
            outcome=ensured.outcome, user_id=str(ensured.user_id) if ensured.user_id else ""
        )
        if ensured.block_reason_code is not None:
            reply.block_reason_code = ensured.block_reason_code
        return reply

    async def SyncDeclaredCountry(self, request: account_pb2.SyncDeclaredCountryRequest, context: Context):
        row = await accounts.sync_declared_country(
            sessions=self._sessions, user_id=request.user_id, declared_country=request.declared_country
        )
        return account_pb2.SyncDeclaredCountryResponse(
            user_id=str(row.user_id), declared_country=row.declared_country or "",
            updated_at=timestamp(row.updated_at),
        )

    async def GetAccountByEmail(self, request: account_pb2.GetAccountByEmailRequest, context: Context):
        return _response(await accounts.get_by_email(reads=self._reads, email=request.email))

    async def GetPermanentlyBlockedEmails(
        self, request: account_pb2.GetPermanentlyBlockedEmailsRequest, context: Context
    ):
        blocked = await accounts.permanently_blocked_emails(reads=self._reads, emails=list(request.emails))
        return account_pb2.GetPermanentlyBlockedEmailsResponse(blocked_emails=blocked)

    async def ResolveUserIdentity(self, request: account_pb2.ResolveUserIdentityRequest, context: Context):
        status = await accounts.resolve_identity(reads=self._reads, user_id=request.user_id)
        return account_pb2.ResolveUserIdentityResponse(status=status)
