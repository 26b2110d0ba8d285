"""Account operations: one transaction each, or one statement in autocommit (docs/account.md).

- ensure-by-email: the live account of an address, created on first sign-in
  (outcome created/existing), or `blocked` when any account of the address
  carries an active permanent block; one statement. Two calls racing for a new
  address make one account (the partial unique index on email_key + ON
  CONFLICT DO NOTHING).
- user_name: `player-` + 8 random base32 characters, drawn at creation, unique
  for ever (unique constraint; a collision is retried with a new draw), never
  changed.
- every change of an account takes its row lock first, so lifecycle events of
  one user enter the outbox in commit order.
- a soft-deleted account is invisible everywhere but ResolveUserIdentity
  (status `deleted`); its address is free for a new account.
- every transaction that changes what UserAccountGet answers puts an
  AccountChanged into the outbox (`publish_change`): readers that remember the
  answer (the edge) forget it.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from galaxy.events.v1.account_pb2 import AccountChanged, AccountLifecycleEvent
from galaxy_kit.db import Reads, transaction
from galaxy_kit.errors import InvalidArgument, NotFound
from galaxy_kit.events import enqueue
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_account.domain import aggregate, policy
from galaxy_account.domain.aggregate import Aggregate, load, load_one
from galaxy_account.domain.validation import (
    canonical_tag,
    is_time_zone,
    parse_country,
    parse_display_name,
    parse_email,
    parse_language,
    parse_time_zone,
    parse_uuid,
)
from galaxy_account.repository import accounts as repo
from galaxy_account.repository.accounts import AccountRow
from galaxy_account.repository.tables import outbox

log = get_logger(__name__)

USER_NAME_PREFIX = "player-"
#: Statements one ensure-by-email may take: a drawn user_name collides about once in 10^12 draws,
#: and a lost race for a new address is followed by a statement that sees the winner.
ENSURE_ATTEMPTS = 8
PRODUCER = "account"

UNKNOWN_USER = "X-User-ID: unknown user"
USER_NOT_FOUND = "user not found"

CREATED = "created"
EXISTING = "existing"
BLOCKED = "blocked"

ACTIVE = "active"
DELETED = "deleted"
UNKNOWN = "unknown"


def now() -> datetime:
    return datetime.now(UTC)


def new_user_name() -> str:
    """`player-` + 8 characters of a-z2-7 (40 random bits)."""
    return USER_NAME_PREFIX + base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()


@dataclass(frozen=True)
class Ensured:
    outcome: str
    user_id: uuid.UUID | None = None
    block_reason_code: str | None = None


# ---- internal: sign-in, lookups, identity ----


#: The initial entitlement of every new account (its tier and provenance).
INITIAL_ENTITLEMENT = {
    "tier": policy.FREE,
    "source": policy.INITIAL_SOURCE,
    "actor_type": policy.SERVICE_ACTOR_TYPE,
    "actor_id": policy.SERVICE_ACTOR_ID,
    "reason_code": policy.INITIAL_REASON,
}


async def ensure_by_email(*, reads: Reads, email: str, preferred_language: str, time_zone: str) -> Ensured:
    """One prepared statement in autocommit (repository/accounts.py, `ensure_by_email_key`); again
    only when the drawn user_name was taken or a concurrent sign-in created the account meanwhile."""
    address = parse_email(email)
    if address is None:
        raise InvalidArgument("email is not a valid e-mail address")
    # The registration context must never fail a sign-in: unusable values fall back.
    language = canonical_tag(preferred_language) or policy.DEFAULT_LANGUAGE
    zone = time_zone if is_time_zone(time_zone) else policy.DEFAULT_TIME_ZONE
    for _ in range(ENSURE_ATTEMPTS):
        try:
            found = await repo.ensure_by_email_key(
                reads, user_id=uuid.uuid4(), email=address.address, email_key=address.key,
                user_name=new_user_name(), preferred_language=language, time_zone=zone,
                block_code=policy.PERMANENT_BLOCK, entitlement=INITIAL_ENTITLEMENT, now=now(),
            )
        except repo.UserNameTaken:
            continue
        if found.blocked:
            return Ensured(BLOCKED, block_reason_code=policy.BLOCK_REASON)
        if found.existing_user_id is not None:
            return Ensured(EXISTING, found.existing_user_id)
        if found.created_user_id is not None:
            log.info("account_created", user_id=str(found.created_user_id))
            return Ensured(CREATED, found.created_user_id)
        # A concurrent sign-in created the account after this statement's snapshot: the next sees it.
    raise RuntimeError("ensure-by-email found no free user_name or kept losing races")


# Reads of one account are one statement each, outside any transaction (galaxy_kit.db.Reads):
# the statement sees one snapshot, so the aggregate is consistent without BEGIN/COMMIT.


#: Addresses one GetPermanentlyBlockedEmails call may carry.
MAX_BLOCK_CHECKS = 500


async def permanently_blocked_emails(*, reads: Reads, emails: list[str]) -> list[str]:
    """Those of `emails` (as given) whose live account is permanently blocked, in one statement;
    an address with no account, or one that does not parse, is not blocked."""
    if not 1 <= len(emails) <= MAX_BLOCK_CHECKS:
        raise InvalidArgument(f"emails must hold 1 to {MAX_BLOCK_CHECKS} addresses")
    keys = [(email, address.key) for email in emails if (address := parse_email(email)) is not None]
    if not keys:
        return []
    blocked = await repo.read_permanently_blocked_keys(reads, sorted({key for _, key in keys}), now())
    return [email for email, key in keys if key in blocked]


async def get_by_email(*, reads: Reads, email: str) -> Aggregate:
    address = parse_email(email)
    found = await aggregate.read_live_by_email_key(reads, address.key, now()) if address is not None else None
    if found is None:
        raise NotFound("no account for this e-mail address")
    return found


async def resolve_identity(*, reads: Reads, user_id: str) -> str:
    """active, deleted, blocked or unknown (a deleted account reads deleted even when also blocked)."""
    parsed = parse_uuid(user_id)
    if parsed is None:
        return UNKNOWN
    found = await repo.read_identity(reads, parsed, now())
    if found is None:
        return UNKNOWN
    deleted, blocked = found
    return DELETED if deleted else BLOCKED if blocked else ACTIVE


async def sync_declared_country(
    *, sessions: async_sessionmaker[AsyncSession], user_id: str, declared_country: str
) -> AccountRow:
    country = parse_country(declared_country)
    async with transaction(sessions) as session:
        row = await _live(session, user_id, NotFound(USER_NOT_FOUND))
        if row.declared_country == country:
            return row
        row = await repo.update(session, row.user_id, declared_country=country)
        await publish_change(session, row.user_id, at=row.updated_at)
        return row


# ---- the user surface ----


async def user_get(*, reads: Reads, user_id: str) -> Aggregate:
    return await _read_live(reads, user_id, InvalidArgument, UNKNOWN_USER)


def cacheable_seconds(found: Aggregate, max_seconds: float) -> float:
    """How long a reader may keep this answer: until its next time-based change, at most
    `max_seconds` (0: not at all). Counted from now, after the read: never past the change."""
    next_change = found.next_change()
    if next_change is None:
        return max_seconds
    return max(0.0, min(max_seconds, (next_change - now()).total_seconds()))


async def update_profile(
    *, sessions: async_sessionmaker[AsyncSession], user_id: str, display_name: str | None
) -> Aggregate:
    """`display_name` None: absent, nothing changes; "" (or only spaces) clears it."""
    values = {}
    if display_name is not None:
        values["display_name"] = parse_display_name(display_name)
    return await _update_user(sessions, user_id, values)


async def update_settings(
    *,
    sessions: async_sessionmaker[AsyncSession],
    user_id: str,
    preferred_language: str | None,
    time_zone: str | None,
) -> Aggregate:
    values = {}
    if preferred_language is not None:
        values["preferred_language"] = parse_language(preferred_language)
    if time_zone is not None:
        values["time_zone"] = parse_time_zone(time_zone)
    return await _update_user(sessions, user_id, values)


async def _update_user(sessions: async_sessionmaker[AsyncSession], user_id: str, values: dict) -> Aggregate:
    async with transaction(sessions) as session:
        row = await _live(session, user_id, InvalidArgument(UNKNOWN_USER), for_update=True)
        if any(getattr(row, key) != value for key, value in values.items()):
            row = await repo.update(session, row.user_id, **values)
            await publish_change(session, row.user_id, at=row.updated_at)
        return await load_one(session, row, now())


async def delete_by_user(*, sessions: async_sessionmaker[AsyncSession], user_id: str) -> None:
    async with transaction(sessions) as session:
        row = await _live(session, user_id, InvalidArgument(UNKNOWN_USER), for_update=True)
        await _soft_delete(session, row, actor_type="user", actor_id=str(row.user_id),
                           reason_code="user_requested_deletion")


# ---- the admin surface ----


async def admin_list(
    *, sessions: async_sessionmaker[AsyncSession], page: int, page_size: int
) -> tuple[list[Aggregate], int]:
    page = max(page, 1)
    page_size = max(page_size, 1)
    async with transaction(sessions) as session:
        total = await repo.count_live(session)
        rows = await repo.list_live(session, offset=(page - 1) * page_size, limit=page_size)
        return await load(session, rows, now()), total


async def admin_get(*, reads: Reads, user_id: str) -> Aggregate:
    return await _read_live(reads, user_id, NotFound, USER_NOT_FOUND)


async def admin_soft_delete(
    *, sessions: async_sessionmaker[AsyncSession], admin_username: str, user_id: str
) -> None:
    async with transaction(sessions) as session:
        row = await _live(session, user_id, NotFound(USER_NOT_FOUND), for_update=True)
        await _soft_delete(session, row, actor_type="admin", actor_id=admin_username,
                           reason_code="admin_soft_delete")


# ---- shared ----


async def _read_live(reads: Reads, user_id: str, missing: type[Exception], message: str) -> Aggregate:
    parsed = parse_uuid(user_id)
    found = await aggregate.read(reads, parsed, now()) if parsed is not None else None
    if found is None or found.account.deleted_at is not None:
        raise missing(message)
    return found


async def _live(session: AsyncSession, user_id: str, missing: Exception, *, for_update: bool = False) -> AccountRow:
    parsed = parse_uuid(user_id)
    row = await repo.get(session, parsed, for_update=for_update) if parsed is not None else None
    if row is None or row.deleted_at is not None:
        raise missing
    return row


async def _soft_delete(session: AsyncSession, row: AccountRow, *, actor_type: str, actor_id: str,
                       reason_code: str) -> None:
    at = now()
    await repo.update(session, row.user_id, deleted_at=at)
    await publish_lifecycle(session, row.user_id, kind=policy.SOFT_DELETED, actor_type=actor_type,
                            actor_id=actor_id, reason_code=reason_code, at=at)
    await publish_change(session, row.user_id, at=at)
    log.info("account_soft_deleted", user_id=str(row.user_id), actor_type=actor_type)


async def publish_lifecycle(
    session: AsyncSession, user_id: uuid.UUID, *, kind: str, actor_type: str, actor_id: str | None,
    reason_code: str, at: datetime,
) -> uuid.UUID:
    """Put an AccountLifecycleEvent into the outbox, in the caller's transaction."""
    event = AccountLifecycleEvent(
        user_id=str(user_id), kind=kind, actor_type=actor_type, actor_id=actor_id or "", reason_code=reason_code
    )
    event.occurred_at.FromDatetime(at)
    return await enqueue(session, table=outbox, topic=policy.LIFECYCLE_TOPIC, key=str(user_id), message=event,
                         producer=PRODUCER)


async def publish_change(session: AsyncSession, user_id: uuid.UUID, *, at: datetime) -> uuid.UUID:
    """Put an AccountChanged into the outbox, in the caller's transaction: what UserAccountGet
    answers for the user has changed (readers that remember it forget it)."""
    event = AccountChanged(user_id=str(user_id))
    event.occurred_at.FromDatetime(at)
    return await enqueue(session, table=outbox, topic=policy.CHANGES_TOPIC, key=str(user_id), message=event,
                         producer=PRODUCER)
