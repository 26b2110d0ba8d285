"""Administrator changes: entitlements, sanctions, limits (docs/account.md). One transaction each.

Every change is a new history row; nothing is updated or deleted. The
aggregate shows the effective state at read time (domain/aggregate.py).
A `permanent_block` that makes an account blocked publishes an
AccountLifecycleEvent (kind `permanently_blocked`) through the outbox, in the
same transaction: the same cascade as a deletion. Every change also publishes
an AccountChanged (what UserAccountGet answers has changed).
"""

from __future__ import annotations

from datetime import datetime

from galaxy_kit.db import transaction
from galaxy_kit.errors import InvalidArgument, NotFound
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_account.domain import policy
from galaxy_account.domain.accounts import USER_NOT_FOUND, _live, now, publish_change, publish_lifecycle
from galaxy_account.domain.aggregate import Aggregate, load_one
from galaxy_account.domain.validation import parse_actor, parse_code, require_future
from galaxy_account.repository import accounts as repo

log = get_logger(__name__)


async def add_entitlement(
    *,
    sessions: async_sessionmaker[AsyncSession],
    admin_username: str,
    user_id: str,
    tier: str,
    source: str,
    actor_type: str,
    actor_id: str | None,
    reason_code: str | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> Aggregate:
    if tier not in policy.TIERS:
        raise InvalidArgument("tier must be one of " + ", ".join(policy.TIERS))
    parse_code("source", source)
    actor = parse_actor(actor_type, actor_id)
    reason = parse_code("reason_code", reason_code) if reason_code else policy.DEFAULT_ENTITLEMENT_REASON
    at = now()
    starts = starts_at or at
    if tier in (policy.FREE, policy.PERMANENT):
        if ends_at is not None:
            raise InvalidArgument(f"a {tier} entitlement does not end: leave ends_at out")
    elif ends_at is None:
        ends_at = starts + policy.DEFAULT_DURATION[tier]
    if ends_at is not None and ends_at <= starts:
        raise InvalidArgument("ends_at must be after starts_at")
    async with transaction(sessions) as session:
        row = await _live(session, user_id, NotFound(USER_NOT_FOUND), for_update=True)
        await repo.insert_entitlement(
            session, user_id=row.user_id, tier=tier, source=source, actor_type=actor[0], actor_id=actor[1],
            reason_code=reason, starts_at=starts, ends_at=ends_at, admin_username=admin_username or None,
        )
        row = await repo.update(session, row.user_id)
        await publish_change(session, row.user_id, at=row.updated_at)
        aggregate = await load_one(session, row, now())
    log.info("entitlement_granted", user_id=str(row.user_id), tier=tier, admin=admin_username)
    return aggregate


async def add_sanction(
    *,
    sessions: async_sessionmaker[AsyncSession],
    admin_username: str,
    user_id: str,
    sanction_code: str,
    scope: str,
    reason_code: str,
    actor_type: str,
    actor_id: str | None,
    expires_at: datetime | None,
) -> Aggregate:
    if sanction_code not in policy.SANCTION_CODES:
        raise InvalidArgument("sanction_code must be one of " + ", ".join(policy.SANCTION_CODES))
    parse_code("scope", scope)
    parse_code("reason_code", reason_code)
    actor = parse_actor(actor_type, actor_id)
    at = now()
    require_future("expires_at", expires_at, at)
    async with transaction(sessions) as session:
        row = await _live(session, user_id, NotFound(USER_NOT_FOUND), for_update=True)
        was_blocked = (await load_one(session, row, at)).blocked
        await repo.insert_sanction(
            session, user_id=row.user_id, sanction_code=sanction_code, scope=scope, reason_code=reason_code,
            actor_type=actor[0], actor_id=actor[1], admin_username=admin_username or None, applied_at=at,
            expires_at=expires_at,
        )
        if sanction_code == policy.PERMANENT_BLOCK and not was_blocked:
            await publish_lifecycle(
                session, row.user_id, kind=policy.PERMANENTLY_BLOCKED, actor_type="admin",
                actor_id=admin_username, reason_code=reason_code, at=at,
            )
        row = await repo.update(session, row.user_id)
        await publish_change(session, row.user_id, at=row.updated_at)
        aggregate = await load_one(session, row, now())
    log.info("sanction_applied", user_id=str(row.user_id), sanction_code=sanction_code, admin=admin_username)
    return aggregate


async def add_limit(
    *,
    sessions: async_sessionmaker[AsyncSession],
    admin_username: str,
    user_id: str,
    limit_code: str,
    value: int,
    reason_code: str,
    actor_type: str,
    actor_id: str | None,
    expires_at: datetime | None,
) -> Aggregate:
    bounds = policy.LIMIT_CODES.get(limit_code)
    if bounds is None:
        raise InvalidArgument("limit_code must be one of " + ", ".join(sorted(policy.LIMIT_CODES)))
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidArgument(f"value of {limit_code} must be between {bounds[0]} and {bounds[1]}")
    parse_code("reason_code", reason_code)
    actor = parse_actor(actor_type, actor_id)
    at = now()
    require_future("expires_at", expires_at, at)
    async with transaction(sessions) as session:
        row = await _live(session, user_id, NotFound(USER_NOT_FOUND), for_update=True)
        await repo.insert_limit(
            session, user_id=row.user_id, limit_code=limit_code, value=value, reason_code=reason_code,
            actor_type=actor[0], actor_id=actor[1], admin_username=admin_username or None, applied_at=at,
            expires_at=expires_at,
        )
        row = await repo.update(session, row.user_id)
        await publish_change(session, row.user_id, at=row.updated_at)
        aggregate = await load_one(session, row, now())
    log.info("limit_applied", user_id=str(row.user_id), limit_code=limit_code, admin=admin_username)
    return aggregate
