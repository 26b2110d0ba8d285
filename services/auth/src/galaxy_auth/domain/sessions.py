"""Device sessions: list, revoke, revoke all, and the gateway's lookup.

Statuses (closed set, docs/auth.md): `active`, `revoked`. Every revocation is
recorded in auth.session_revocations with its actor kind: `user_self` (the
user, through /api/v1/user/sessions*), `admin` (an administrator) or `system`
(auth itself or an event, e.g. an account's permanent block). Lookups read the
database every time, so a revocation is visible at once on every replica.

Every revocation also publishes a `DeviceSessionRevoked` event (one per session)
to `galaxy.auth.sessions.v1` through auth's outbox, in the transaction that
revokes: the edges cache active lookups and drop a session when its event
arrives (docs/auth.md, "Device sessions").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from galaxy.events.v1.auth_pb2 import DeviceSessionRevoked
from galaxy_kit.db import Reads, transaction
from galaxy_kit.errors import NotFound
from galaxy_kit.events import enqueue
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.domain.validation import parse_user_id, parse_uuid
from galaxy_auth.repository import sessions as repo
from galaxy_auth.repository.sessions import DeviceSessionRow
from galaxy_auth.repository.tables import ACTOR_KINDS, outbox

log = get_logger(__name__)

SESSION_NOT_FOUND = "device session not found"
#: How stale last_seen_at may get before a lookup writes it again (the default of
#: GALAXY_AUTH_SESSION_LAST_SEEN_RESOLUTION_SECONDS).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
#: Topic of DeviceSessionRevoked events (record key: the user id, so a user's revocations keep their order).
SESSIONS_TOPIC = "galaxy.auth.sessions.v1"
PRODUCER = "auth"

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
        await publish_revocations(session, revoked)
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
    await publish_revocations(session, revoked)
    log.info("device_sessions_revoked", user_id=str(owner), count=len(revoked), actor_kind=actor_kind)
    return RevocationSummary(user_id=owner, revoked_count=len(revoked))


async def publish_revocations(session: AsyncSession, revoked: list[DeviceSessionRow]) -> None:
    """Queue one DeviceSessionRevoked per revoked row, in the revoking transaction (the outbox)."""
    for index, row in enumerate(revoked):
        event = DeviceSessionRevoked(device_session_id=str(row.device_session_id), user_id=str(row.user_id))
        assert row.revoked_at is not None  # set by the revoking UPDATE
        event.revoked_at.FromDatetime(row.revoked_at)
        # One NOTIFY (delivered at commit) wakes the relay for the whole transaction.
        await enqueue(session, table=outbox, topic=SESSIONS_TOPIC, key=str(row.user_id), message=event,
                      producer=PRODUCER, notify=index == len(revoked) - 1)


async def get_session(
    *,
    reads: Reads,
    sessions: async_sessionmaker[AsyncSession],
    device_session_id: str,
    last_seen_resolution: timedelta = LAST_SEEN_RESOLUTION,
) -> DeviceSessionRow:
    """The session as stored now (no cache); records that the gateway saw it (at most once
    per `last_seen_resolution`).

    The gateway calls this on every request the edge's session cache cannot answer, so the
    common case is one statement outside any transaction; only a lookup that finds
    last_seen_at stale writes.
    """
    target = parse_uuid(device_session_id)
    if target is None:
        raise NotFound(SESSION_NOT_FOUND)
    row = await repo.read(reads, target)
    if row is None:
        raise NotFound(SESSION_NOT_FOUND)
    if row.status == "active" and (
        row.last_seen_at is None or row.last_seen_at < datetime.now(UTC) - last_seen_resolution
    ):
        async with transaction(sessions) as session:
            touched = await repo.touch_last_seen(session, target, resolution=last_seen_resolution)
        if touched is not None:
            row = touched
    return row
