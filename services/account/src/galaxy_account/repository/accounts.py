"""Queries on accounts and their entitlement, sanction and limit history. Nothing here commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on, insert
from galaxy_kit.db import Query, Reads
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


async def get_live_by_email_key(session: AsyncSession, email_key: str) -> AccountRow | None:
    row = (
        await session.execute(
            sa.select(*_ACCOUNT_COLUMNS).where(accounts.c.email_key == email_key, accounts.c.deleted_at.is_(None))
        )
    ).one_or_none()
    return AccountRow(*row) if row is not None else None


async def email_blocked(session: AsyncSession, email_key: str, now: datetime) -> bool:
    """Whether any account of the address (live or deleted) has an active permanent block."""
    query = sa.select(
        sa.exists().where(
            sanctions.c.user_id == accounts.c.user_id,
            accounts.c.email_key == email_key,
            sanctions.c.sanction_code == "permanent_block",
            _active(sanctions.c.expires_at, now),
        )
    )
    return bool((await session.execute(query)).scalar_one())


async def insert_if_address_free(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    email: str,
    email_key: str,
    user_name: str,
    preferred_language: str,
    time_zone: str,
) -> bool:
    """Insert a live account unless one already holds the address; True when inserted.

    A user_name collision raises IntegrityError (the caller retries in a savepoint).
    """
    inserted = (
        await session.execute(
            insert(accounts)
            .values(
                user_id=user_id,
                email=email,
                email_key=email_key,
                user_name=user_name,
                preferred_language=preferred_language,
                time_zone=time_zone,
            )
            .on_conflict_do_nothing(
                index_elements=[accounts.c.email_key], index_where=accounts.c.deleted_at.is_(None)
            )
            .returning(accounts.c.user_id)
        )
    ).scalar_one_or_none()
    return inserted is not None


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
    return sa.select(
        *_ACCOUNT_COLUMNS,
        entitlement.label("entitlement"),
        active_sanctions.label("sanctions"),
        latest_limits.label("limits"),
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


def _aggregate_rows(record) -> AggregateRows:  # noqa: ANN001 - an asyncpg Record
    account_fields = len(_ACCOUNT_COLUMNS)
    entitlement = record["entitlement"]
    return AggregateRows(
        account=AccountRow(*record[:account_fields]),
        entitlement=EntitlementRow(*entitlement) if entitlement is not None else None,
        sanctions=[SanctionRow(*row) for row in record["sanctions"]],
        latest_limits=[LimitRow(*row) for row in record["limits"]],
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
