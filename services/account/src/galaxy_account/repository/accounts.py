"""Queries on accounts and their entitlement, sanction and limit history.

The ORM-session functions never commit (the domain's transaction does). The hot
statements at the end run alone in autocommit on `galaxy_kit.db.Reads`, each
one prepared statement, atomic on its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import sqlalchemy as sa
from galaxy_kit.db import Query, Reads
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_account.repository.tables import accounts, entitlements, limits, sanctions


@dataclass(frozen=True)
class AccountRow:
    user_id: uuid.UUID
    email: str
    email_key: str
    user_name: str
    display_name: str | None
    preferred_language: str
    time_zone: str
    declared_country: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class EntitlementRow:
    entitlement_id: int
    user_id: uuid.UUID
    tier: str
    source: str
    actor_type: str
    actor_id: str | None
    reason_code: str
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class SanctionRow:
    sanction_id: int
    user_id: uuid.UUID
    sanction_code: str
    scope: str
    reason_code: str
    actor_type: str
    actor_id: str | None
    applied_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class LimitRow:
    limit_id: int
    user_id: uuid.UUID
    limit_code: str
    value: int
    reason_code: str
    actor_type: str
    actor_id: str | None
    applied_at: datetime
    expires_at: datetime | None


_ACCOUNT_COLUMNS = [getattr(accounts.c, name) for name in AccountRow.__dataclass_fields__]
_ENTITLEMENT_COLUMNS = [getattr(entitlements.c, name) for name in EntitlementRow.__dataclass_fields__]
_SANCTION_COLUMNS = [getattr(sanctions.c, name) for name in SanctionRow.__dataclass_fields__]
_LIMIT_COLUMNS = [getattr(limits.c, name) for name in LimitRow.__dataclass_fields__]


def _active(expires_at: sa.Column, now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(expires_at.is_(None), expires_at > now)


async def get(session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False) -> AccountRow | None:
    query = sa.select(*_ACCOUNT_COLUMNS).where(accounts.c.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return AccountRow(*row) if row is not None else None


async def update(session: AsyncSession, user_id: uuid.UUID, **values) -> AccountRow:
    row = (
        await session.execute(
            sa.update(accounts)
            .where(accounts.c.user_id == user_id)
            .values(**values, updated_at=sa.func.now())
            .returning(*_ACCOUNT_COLUMNS)
        )
    ).one()
    return AccountRow(*row)


async def count_live(session: AsyncSession) -> int:
    return int(
        (await session.execute(sa.select(sa.func.count()).where(accounts.c.deleted_at.is_(None)))).scalar_one()
    )


async def list_live(session: AsyncSession, *, offset: int, limit: int) -> list[AccountRow]:
    rows = await session.execute(
        sa.select(*_ACCOUNT_COLUMNS)
        .where(accounts.c.deleted_at.is_(None))
        .order_by(accounts.c.created_at, accounts.c.user_id)
        .offset(offset)
        .limit(limit)
    )
    return [AccountRow(*row) for row in rows]


async def insert_entitlement(session: AsyncSession, **values) -> None:
    await session.execute(sa.insert(entitlements).values(**values))


async def insert_sanction(session: AsyncSession, **values) -> None:
    await session.execute(sa.insert(sanctions).values(**values))


async def insert_limit(session: AsyncSession, **values) -> None:
    await session.execute(sa.insert(limits).values(**values))


async def current_entitlements(
    session: AsyncSession, user_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, EntitlementRow]:
    """Per user, the latest grant that has started (the snapshot is derived from it)."""
    if not user_ids:
        return {}
    rows = await session.execute(
        sa.select(*_ENTITLEMENT_COLUMNS)
        .ext(distinct_on(entitlements.c.user_id))
        .where(entitlements.c.user_id.in_(user_ids), entitlements.c.starts_at <= now)
        .order_by(entitlements.c.user_id, entitlements.c.entitlement_id.desc())
    )
    return {row.user_id: EntitlementRow(*row) for row in rows}


async def active_sanctions(
    session: AsyncSession, user_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[SanctionRow]]:
    found: dict[uuid.UUID, list[SanctionRow]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    rows = await session.execute(
        sa.select(*_SANCTION_COLUMNS)
        .where(sanctions.c.user_id.in_(user_ids), _active(sanctions.c.expires_at, now))
        .order_by(sanctions.c.sanction_id)
    )
    for row in rows:
        found[row.user_id].append(SanctionRow(*row))
    return found


async def latest_limits(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[LimitRow]]:
    """Per user, the latest limit of each code (expired or not), ordered by code."""
    found: dict[uuid.UUID, list[LimitRow]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    rows = await session.execute(
        sa.select(*_LIMIT_COLUMNS)
        .ext(distinct_on(limits.c.user_id, limits.c.limit_code))
        .where(limits.c.user_id.in_(user_ids))
        .order_by(limits.c.user_id, limits.c.limit_code, limits.c.limit_id.desc())
    )
    for row in rows:
        found[row.user_id].append(LimitRow(*row))
    return found


# ---- hot reads: one statement each, on galaxy_kit.db.Reads (no ORM session, no transaction) ----

NOW = sa.bindparam("now", type_=sa.DateTime(timezone=True))


def _rows(columns: list[sa.Column]) -> sa.FunctionElement:
    """A row constructor, ROW(...): asyncpg returns it as a tuple in the order of `columns`."""
    return sa.func.row(*columns)


def _aggregate_statement(*where: sa.ColumnElement[bool]) -> sa.Select:
    """The account, its current entitlement, active sanctions and latest limits in one row.

    The history tables are read by correlated subqueries that asyncpg returns as
    records (entitlement) and arrays of records (sanctions, limits), so one round
    trip builds the whole aggregate. Expired limits are dropped by the caller:
    the latest limit of a code decides, even when it has expired.
    """
    entitlement = (
        sa.select(_rows(_ENTITLEMENT_COLUMNS))
        .where(entitlements.c.user_id == accounts.c.user_id, entitlements.c.starts_at <= NOW)
        .order_by(entitlements.c.entitlement_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    active_sanctions = sa.func.array(
        sa.select(_rows(_SANCTION_COLUMNS))
        .where(sanctions.c.user_id == accounts.c.user_id, _active(sanctions.c.expires_at, NOW))
        .order_by(sanctions.c.sanction_id)
        .scalar_subquery()
    )
    latest_limits = sa.func.array(
        sa.select(_rows(_LIMIT_COLUMNS))
        .ext(distinct_on(limits.c.limit_code))
        .where(limits.c.user_id == accounts.c.user_id)
        .order_by(limits.c.limit_code, limits.c.limit_id.desc())
        .scalar_subquery()
    )
    # A grant that starts later changes the answer at its start with no write (the cacheability
    # bound of UserAccountGet, domain/aggregate.py `next_change`).
    next_entitlement_start = (
        sa.select(sa.func.min(entitlements.c.starts_at))
        .where(entitlements.c.user_id == accounts.c.user_id, entitlements.c.starts_at > NOW)
        .scalar_subquery()
    )
    return sa.select(
        *_ACCOUNT_COLUMNS,
        entitlement.label("entitlement"),
        active_sanctions.label("sanctions"),
        latest_limits.label("limits"),
        next_entitlement_start.label("next_entitlement_start"),
    ).where(*where)


_AGGREGATE_BY_ID = Query.compile(_aggregate_statement(accounts.c.user_id == sa.bindparam("user_id")))
_LIVE_AGGREGATE_BY_EMAIL_KEY = Query.compile(
    _aggregate_statement(accounts.c.email_key == sa.bindparam("email_key"), accounts.c.deleted_at.is_(None))
)
_IDENTITY = Query.compile(
    sa.select(
        accounts.c.deleted_at.is_not(None).label("deleted"),
        sa.exists()
        .where(
            sanctions.c.user_id == accounts.c.user_id,
            sanctions.c.sanction_code == "permanent_block",
            _active(sanctions.c.expires_at, NOW),
        )
        .label("blocked"),
    ).where(accounts.c.user_id == sa.bindparam("user_id"))
)


_PERMANENTLY_BLOCKED_KEYS = Query.compile(
    sa.select(accounts.c.email_key).where(
        accounts.c.email_key == sa.any_(sa.bindparam("email_keys", type_=ARRAY(sa.Text))),
        accounts.c.deleted_at.is_(None),
        sa.exists().where(
            sanctions.c.user_id == accounts.c.user_id,
            sanctions.c.sanction_code == "permanent_block",
            _active(sanctions.c.expires_at, NOW),
        ),
    )
)


@dataclass(frozen=True)
class AggregateRows:
    """What the aggregate is built from, as stored (nothing decided yet)."""

    account: AccountRow
    entitlement: EntitlementRow | None
    sanctions: list[SanctionRow]
    latest_limits: list[LimitRow]
    #: The earliest grant starting after the read's `now`; only the one-statement reads know it.
    next_entitlement_start: datetime | None = None


def _aggregate_rows(record) -> AggregateRows:  # noqa: ANN001 - an asyncpg Record
    account_fields = len(_ACCOUNT_COLUMNS)
    entitlement = record["entitlement"]
    return AggregateRows(
        account=AccountRow(*record[:account_fields]),
        entitlement=EntitlementRow(*entitlement) if entitlement is not None else None,
        sanctions=[SanctionRow(*row) for row in record["sanctions"]],
        latest_limits=[LimitRow(*row) for row in record["limits"]],
        next_entitlement_start=record["next_entitlement_start"],
    )


async def read_aggregate(reads: Reads, user_id: uuid.UUID, now: datetime) -> AggregateRows | None:
    """The account (live or deleted) with its history, in one statement."""
    record = await reads.fetchrow(_AGGREGATE_BY_ID, user_id=user_id, now=now)
    return _aggregate_rows(record) if record is not None else None


async def read_live_aggregate_by_email_key(reads: Reads, email_key: str, now: datetime) -> AggregateRows | None:
    record = await reads.fetchrow(_LIVE_AGGREGATE_BY_EMAIL_KEY, email_key=email_key, now=now)
    return _aggregate_rows(record) if record is not None else None


async def read_permanently_blocked_keys(reads: Reads, email_keys: list[str], now: datetime) -> set[str]:
    """Those of `email_keys` whose live account is under an active permanent block, in one statement."""
    return {record["email_key"] for record in await reads.fetch(_PERMANENTLY_BLOCKED_KEYS, email_keys=email_keys,
                                                                 now=now)}


async def read_identity(reads: Reads, user_id: uuid.UUID, now: datetime) -> tuple[bool, bool] | None:
    """(deleted, blocked) of an account in one statement; None when there is none."""
    record = await reads.fetchrow(_IDENTITY, user_id=user_id, now=now)
    return (record["deleted"], record["blocked"]) if record is not None else None


# ---- ensure-by-email: one statement (docs/account.md, "Ensure-by-email") ----

#: The constraint a drawn user_name collides on (the caller draws again).
USER_NAME_CONSTRAINT = "accounts_user_name_key"


class UserNameTaken(Exception):
    """The drawn user_name already belongs to an account; nothing was written."""


@dataclass(frozen=True)
class EnsureRow:
    """What one ensure statement found or made; all empty when it lost a race (see `ensure_by_email_key`)."""

    blocked: bool
    existing_user_id: uuid.UUID | None
    created_user_id: uuid.UUID | None


# The block check (any account of the address, live or deleted), the live account and, only when
# there is neither, the new account and its first entitlement: one snapshot, one round trip. Two
# statements racing for a new address meet on the partial unique index: the later INSERT waits for
# the earlier one's commit and then does nothing, so exactly one account is made; the loser's own
# snapshot predates that commit, so it answers all-empty and the caller asks again.
_ENSURE = Query.compile(sa.text("""
WITH blocked AS (
    SELECT EXISTS (
        SELECT 1 FROM account.accounts AS a JOIN account.sanctions AS s ON s.user_id = a.user_id
        WHERE a.email_key = CAST(:email_key AS text)
          AND s.sanction_code = CAST(:block_code AS text)
          AND (s.expires_at IS NULL OR s.expires_at > CAST(:now AS timestamptz))
    ) AS blocked
), live AS (
    SELECT user_id FROM account.accounts
    WHERE email_key = CAST(:email_key AS text) AND deleted_at IS NULL
), created AS (
    INSERT INTO account.accounts (user_id, email, email_key, user_name, preferred_language, time_zone)
    SELECT CAST(:user_id AS uuid), CAST(:email AS text), CAST(:email_key AS text), CAST(:user_name AS text),
           CAST(:preferred_language AS text), CAST(:time_zone AS text)
    WHERE NOT (SELECT blocked FROM blocked) AND NOT EXISTS (SELECT FROM live)
    ON CONFLICT (email_key) WHERE deleted_at IS NULL DO NOTHING
    RETURNING user_id
), entitlement AS (
    INSERT INTO account.entitlements (user_id, tier, source, actor_type, actor_id, reason_code, starts_at)
    SELECT user_id, CAST(:tier AS text), CAST(:source AS text), CAST(:actor_type AS text),
           CAST(:actor_id AS text), CAST(:reason_code AS text), CAST(:now AS timestamptz)
    FROM created
)
SELECT (SELECT blocked FROM blocked) AS blocked,
       (SELECT user_id FROM live) AS existing_user_id,
       (SELECT user_id FROM created) AS created_user_id
"""))


async def ensure_by_email_key(
    reads: Reads,
    *,
    user_id: uuid.UUID,
    email: str,
    email_key: str,
    user_name: str,
    preferred_language: str,
    time_zone: str,
    block_code: str,
    entitlement: dict[str, str],
    now: datetime,
) -> EnsureRow:
    """Blocked, the live account, or a new one (with `entitlement`: tier, source, actor_type,
    actor_id, reason_code, starting `now`), in one statement in autocommit.

    All fields empty: a concurrent statement created the address's account after this one's
    snapshot was taken (nothing was written; ask again). Raises UserNameTaken when `user_name`
    is someone's (nothing was written; draw again).
    """
    try:
        [row] = await reads.write(
            _ENSURE, user_id=user_id, email=email, email_key=email_key, user_name=user_name,
            preferred_language=preferred_language, time_zone=time_zone, block_code=block_code, now=now,
            **entitlement,
        )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == USER_NAME_CONSTRAINT:
            raise UserNameTaken(user_name) from None
        raise
    return EnsureRow(row["blocked"], row["existing_user_id"], row["created_user_id"])
