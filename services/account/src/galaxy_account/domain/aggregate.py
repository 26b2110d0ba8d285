"""The Account aggregate as read: profile + settings + entitlement snapshot + active sanctions and limits.

Everything time-dependent is computed at read time against `now`: an ended
paid entitlement reads as free, a grant that has started replaces the one
before, expired sanctions and limits drop out. Nothing has to run at the
moment something expires; `Aggregate.next_change` says when the answer will
change with no write (the bound of how long a reader may keep it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from galaxy_kit.db import Reads
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_account.domain import policy
from galaxy_account.repository import accounts as repo
from galaxy_account.repository.accounts import (
    AccountRow,
    AggregateRows,
    EntitlementRow,
    LimitRow,
    SanctionRow,
)


@dataclass(frozen=True)
class Actor:
    type: str
    id: str | None


@dataclass(frozen=True)
class EntitlementSnapshot:
    plan_code: str
    is_paid: bool
    source: str
    actor: Actor
    reason_code: str
    starts_at: datetime
    ends_at: datetime | None
    max_registered_race_names: int
    updated_at: datetime


@dataclass(frozen=True)
class Aggregate:
    account: AccountRow
    entitlement: EntitlementSnapshot
    active_sanctions: list[SanctionRow]
    active_limits: list[LimitRow]
    #: The earliest grant starting after the read (known only to `read`, not to `load`).
    next_entitlement_start: datetime | None = None

    def next_change(self) -> datetime | None:
        """The first moment after the read at which the aggregate reads differently with no write:
        the current grant ends, a later grant starts, an active sanction or limit expires. None:
        only a write changes it. Every other field is stored as is (docs/account.md).

        Valid for an aggregate from `read` (which knows the upcoming grants), not from `load`.
        """
        moments = [
            self.entitlement.ends_at,
            self.next_entitlement_start,
            *(s.expires_at for s in self.active_sanctions),
            *(lim.expires_at for lim in self.active_limits),
        ]
        return min((m for m in moments if m is not None), default=None)

    @property
    def blocked(self) -> bool:
        return any(s.sanction_code == policy.PERMANENT_BLOCK for s in self.active_sanctions)


def snapshot(row: EntitlementRow | None, account: AccountRow, now: datetime) -> EntitlementSnapshot:
    """The snapshot of the effective grant; free once a paid grant has ended."""
    if row is None:  # cannot happen for accounts made by ensure-by-email; be total anyway
        return _free(policy.INITIAL_SOURCE, policy.INITIAL_REASON, account.created_at)
    if row.ends_at is not None and row.ends_at <= now:
        return _free(policy.EXPIRY_SOURCE, policy.EXPIRY_REASON, row.ends_at)
    return EntitlementSnapshot(
        plan_code=row.tier,
        is_paid=row.tier in policy.PAID_TIERS,
        source=row.source,
        actor=Actor(row.actor_type, row.actor_id),
        reason_code=row.reason_code,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        max_registered_race_names=policy.MAX_REGISTERED_RACE_NAMES[row.tier],
        updated_at=row.created_at,
    )


def _free(source: str, reason: str, since: datetime) -> EntitlementSnapshot:
    return EntitlementSnapshot(
        plan_code=policy.FREE,
        is_paid=False,
        source=source,
        actor=Actor(policy.SERVICE_ACTOR_TYPE, policy.SERVICE_ACTOR_ID),
        reason_code=reason,
        starts_at=since,
        ends_at=None,
        max_registered_race_names=policy.MAX_REGISTERED_RACE_NAMES[policy.FREE],
        updated_at=since,
    )


def assemble(rows: AggregateRows, now: datetime) -> Aggregate:
    """The aggregate as of `now` from what is stored: the effective entitlement, active limits."""
    return Aggregate(
        account=rows.account,
        entitlement=snapshot(rows.entitlement, rows.account, now),
        active_sanctions=rows.sanctions,
        active_limits=[
            limit for limit in rows.latest_limits if limit.expires_at is None or limit.expires_at > now
        ],
        next_entitlement_start=rows.next_entitlement_start,
    )


async def read(reads: Reads, user_id: uuid.UUID, now: datetime) -> Aggregate | None:
    """The aggregate of an account (live or deleted) in one statement, outside any transaction."""
    rows = await repo.read_aggregate(reads, user_id, now)
    return assemble(rows, now) if rows is not None else None


async def read_live_by_email_key(reads: Reads, email_key: str, now: datetime) -> Aggregate | None:
    rows = await repo.read_live_aggregate_by_email_key(reads, email_key, now)
    return assemble(rows, now) if rows is not None else None


async def load(session: AsyncSession, rows: list[AccountRow], now: datetime) -> list[Aggregate]:
    """Aggregates of `rows` inside a unit of work, in order, with three queries whatever their number."""
    ids: list[uuid.UUID] = [row.user_id for row in rows]
    current = await repo.current_entitlements(session, ids, now)
    sanctions = await repo.active_sanctions(session, ids, now)
    limits = await repo.latest_limits(session, ids)
    return [
        assemble(AggregateRows(row, current.get(row.user_id), sanctions[row.user_id], limits[row.user_id]), now)
        for row in rows
    ]


async def load_one(session: AsyncSession, row: AccountRow, now: datetime) -> Aggregate:
    return (await load(session, [row], now))[0]
