"""Device sessions: list, revoke, revoke all, and the gateway's lookup.

Statuses (closed set, docs/auth.md): `active`, `revoked`. Every revocation is
recorded in auth.session_revocations with its actor kind: `user_self` (the
user, through /api/v1/user/sessions*), `admin` (an administrator) or `system`
(auth itself or an event, e.g. an account's permanent block). Lookups read the
database every time, so a revocation is visible at once on every replica.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from galaxy_kit.db import Reads, transaction
from galaxy_kit.errors import NotFound
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.domain.validation import parse_user_id, parse_uuid
from galaxy_auth.repository import sessions as repo
from galaxy_auth.repository.sessions import DeviceSessionRow
from galaxy_auth.repository.tables import ACTOR_KINDS

log = get_logger(__name__)

SESSION_NOT_FOUND = "device session not found"
#: How stale last_seen_at may get before a lookup writes it again.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

USER_SELF = "user_self"
ADMIN = "admin"
SYSTEM = "system"


@dataclass(frozen=True)
class RevocationSummary:
    user_id: uuid.UUID
    revoked_count: int


async def list_sessions(*, sessions: async_sessionmaker[AsyncSession], user_id: str) -> list[DeviceSessionRow]:
    """The caller's active sessions, newest first."""
    owner = parse_user_id(user_id)
    async with transaction(sessions) as session:
        return await repo.list_active(session, owner)


async def revoke_session(
    *, sessions: async_sessionmaker[AsyncSession], user_id: str, device_session_id: str
) -> DeviceSessionRow:
    """Revoke one of the caller's sessions (already revoked: unchanged).

    Someone else's session answers NotFound, exactly like a missing one.
    """
    owner = parse_user_id(user_id)
    target = parse_uuid(device_session_id)
    if target is None:
        raise NotFound(SESSION_NOT_FOUND)
    async with transaction(sessions) as session:
        row = await repo.get(session, target, for_update=True)
        if row is None or row.user_id != owner:
            raise NotFound(SESSION_NOT_FOUND)
        if row.status != "active":
            return row
        revoked = await repo.revoke(session, [target])
        await repo.record_revocations(
            session, revoked, actor_kind=USER_SELF, actor_id=str(owner), reason="user_revoked_session"
        )
    log.info("device_session_revoked", device_session_id=str(target), actor_kind=USER_SELF)
    return revoked[0]


async def revoke_all_sessions(
    *,
    sessions: async_sessionmaker[AsyncSession],
    user_id: str,
    actor_kind: str = USER_SELF,
    actor_id: str | None = None,
    reason: str = "user_revoked_all_sessions",
) -> RevocationSummary:
    """Revoke every active session of a user, one revocation record each."""
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor_kind!r}")
    owner = parse_user_id(user_id)
    if actor_kind == USER_SELF:
        actor_id = str(owner)
    async with transaction(sessions) as session:
        return await revoke_all_in(session, owner, actor_kind=actor_kind, actor_id=actor_id, reason=reason)


async def revoke_all_in(
    session: AsyncSession, owner: uuid.UUID, *, actor_kind: str, actor_id: str | None, reason: str
) -> RevocationSummary:
    """`revoke_all_sessions` inside the caller's transaction (the lifecycle consumer commits it with its inbox row)."""
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor_kind!r}")
    ids = await repo.active_ids_for_update(session, owner)
    revoked = await repo.revoke(session, ids)
    await repo.record_revocations(session, revoked, actor_kind=actor_kind, actor_id=actor_id, reason=reason)
    log.info("device_sessions_revoked", user_id=str(owner), count=len(revoked), actor_kind=actor_kind)
    return RevocationSummary(user_id=owner, revoked_count=len(revoked))


async def get_session(
    *, reads: Reads, sessions: async_sessionmaker[AsyncSession], device_session_id: str
) -> DeviceSessionRow:
    """The session as stored now (no cache); records that the gateway saw it (at most once a minute).

    The gateway calls this on every request, so the common case is one statement
    outside any transaction; only a lookup that finds last_seen_at stale writes.
    """
    target = parse_uuid(device_session_id)
    if target is None:
        raise NotFound(SESSION_NOT_FOUND)
    row = await repo.read(reads, target)
    if row is None:
        raise NotFound(SESSION_NOT_FOUND)
    if row.status == "active" and (
        row.last_seen_at is None or row.last_seen_at < datetime.now(UTC) - LAST_SEEN_RESOLUTION
    ):
        async with transaction(sessions) as session:
            touched = await repo.touch_last_seen(session, target, resolution=LAST_SEEN_RESOLUTION)
        if touched is not None:
            row = touched
    return row
