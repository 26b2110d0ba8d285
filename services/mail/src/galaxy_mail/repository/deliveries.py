"""Queries on mail.deliveries, mail.attempts and mail.dead_letters.

Admin reads select only the admin-safe columns (`DeliveryView`): the
template variables (a login code) and the recipient are read by the worker's
claim and nowhere else. Every timestamp comes from the database clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from galaxy_kit.db import Query, Reads
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_mail.repository.tables import SENDABLE, attempts, dead_letters, deliveries

#: LISTEN/NOTIFY channel that wakes the workers when a delivery becomes due now.
WAKEUP_CHANNEL = "galaxy_mail_deliveries"
MAX_ERROR_TEXT = 1000


@dataclass(frozen=True)
class DeliveryView:
    """What an administrator may see of a delivery: no variables, no body, no recipient."""

    delivery_id: uuid.UUID
    template_id: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class AttemptView:
    attempt_id: uuid.UUID
    delivery_id: uuid.UUID
    attempt_no: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None


@dataclass(frozen=True)
class DeadLetterView:
    dead_letter_id: uuid.UUID
    delivery_id: uuid.UUID
    archived_at: datetime
    reason: str


@dataclass(frozen=True)
class DueDelivery:
    """A due delivery, row-locked by the claiming transaction."""

    delivery_id: uuid.UUID
    template_id: str
    locale: str
    recipient: str
    variables: dict[str, str]
    attempts: int
    cycle_attempts: int
    claim_attempt_id: uuid.UUID | None


@dataclass(frozen=True)
class ClaimState:
    """A delivery's state as a finishing attempt sees it (row-locked)."""

    status: str
    cycle_attempts: int
    claim_attempt_id: uuid.UUID | None
    rearmed_at: datetime | None


_VIEW_COLUMNS = [getattr(deliveries.c, name) for name in DeliveryView.__dataclass_fields__]
_ATTEMPT_COLUMNS = [getattr(attempts.c, name) for name in AttemptView.__dataclass_fields__]
_DEAD_LETTER_COLUMNS = [getattr(dead_letters.c, name) for name in DeadLetterView.__dataclass_fields__]


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_TEXT]


def _seconds(delta: timedelta) -> Any:
    return sa.literal(delta, sa.Interval)


# -- enqueue and admin reads -------------------------------------------------------------------


async def insert_if_absent(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    idempotency_key: str,
    template_id: str,
    locale: str,
    recipient: str,
    variables: dict[str, str],
) -> bool:
    """Insert a pending delivery, due now; False when the idempotency key is taken."""
    result = await session.execute(
        insert(deliveries)
        .values(
            delivery_id=delivery_id,
            idempotency_key=idempotency_key,
            template_id=template_id,
            locale=locale,
            recipient=recipient,
            variables=variables,
            status="pending",
            next_attempt_at=sa.func.now(),
        )
        .on_conflict_do_nothing(index_elements=[deliveries.c.idempotency_key])
    )
    return result.rowcount == 1


# One round trip: the row and the workers' wake-up (delivered when the statement commits).
@dataclass(frozen=True)
class NewDelivery:
    delivery_id: uuid.UUID
    idempotency_key: str
    template_id: str
    locale: str
    recipient: str
    variables: dict[str, str]


# Many deliveries in one round trip: the rows (a key already taken is skipped) and the workers'
# wake-up (PostgreSQL folds the identical notifications of one transaction into one). Inserted in
# key order: two calls inserting the same keys in opposite orders would each wait for the other's
# uncommitted row (a deadlock PostgreSQL breaks by failing one of them).
_ENQUEUE_MANY = Query.compile(sa.text("""
WITH created AS (
    INSERT INTO mail.deliveries
        (delivery_id, idempotency_key, template_id, locale, recipient, variables, status, next_attempt_at)
    SELECT n.delivery_id, n.idempotency_key, n.template_id, n.locale, n.recipient, CAST(n.variables AS jsonb),
           'pending', now()
    FROM unnest(CAST(:delivery_ids AS uuid[]), CAST(:idempotency_keys AS text[]), CAST(:template_ids AS text[]),
                CAST(:locales AS text[]), CAST(:recipients AS text[]), CAST(:variables AS text[]))
         AS n(delivery_id, idempotency_key, template_id, locale, recipient, variables)
    ORDER BY n.idempotency_key
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING idempotency_key, delivery_id
)
SELECT idempotency_key, delivery_id, pg_notify('""" + WAKEUP_CHANNEL + """', '') FROM created
"""))
_IDS_BY_KEYS = Query.compile(sa.text(
    "SELECT idempotency_key, delivery_id FROM mail.deliveries"
    " WHERE idempotency_key = ANY(CAST(:idempotency_keys AS text[]))"
))


async def create_many_and_notify(reads: Reads, rows: Sequence[NewDelivery]) -> dict[str, uuid.UUID]:
    """Insert pending deliveries, due now, and wake the workers, in one statement (autocommit);
    idempotency key → delivery id of the ones created (a key already taken is absent)."""
    created = await reads.write(
        _ENQUEUE_MANY,
        delivery_ids=[row.delivery_id for row in rows],
        idempotency_keys=[row.idempotency_key for row in rows],
        template_ids=[row.template_id for row in rows],
        locales=[row.locale for row in rows],
        recipients=[row.recipient for row in rows],
        variables=[json.dumps(row.variables) for row in rows],
    )
    return {row[0]: row[1] for row in created}


async def read_ids_by_keys(reads: Reads, keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """A statement of its own: it sees rows concurrent enqueues committed after ours began."""
    return {row[0]: row[1] for row in await reads.fetch(_IDS_BY_KEYS, idempotency_keys=list(keys))}


async def id_by_key(session: AsyncSession, idempotency_key: str) -> uuid.UUID | None:
    return (
        await session.execute(
            sa.select(deliveries.c.delivery_id).where(deliveries.c.idempotency_key == idempotency_key)
        )
    ).scalar_one_or_none()


async def get_view(session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False) -> DeliveryView | None:
    query = sa.select(*_VIEW_COLUMNS).where(deliveries.c.delivery_id == delivery_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else DeliveryView(**row)


async def list_views(session: AsyncSession, *, offset: int, limit: int) -> list[DeliveryView]:
    rows = await session.execute(
        sa.select(*_VIEW_COLUMNS)
        .order_by(deliveries.c.created_at.desc(), deliveries.c.delivery_id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [DeliveryView(**row) for row in rows.mappings()]


async def count(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar_one()


async def list_attempts(session: AsyncSession, delivery_id: uuid.UUID) -> list[AttemptView]:
    rows = await session.execute(
        sa.select(*_ATTEMPT_COLUMNS).where(attempts.c.delivery_id == delivery_id).order_by(attempts.c.attempt_no)
    )
    return [AttemptView(**row) for row in rows.mappings()]


async def list_open_dead_letters(session: AsyncSession, *, offset: int, limit: int) -> list[DeadLetterView]:
    rows = await session.execute(
        sa.select(*_DEAD_LETTER_COLUMNS)
        .where(dead_letters.c.resolved_at.is_(None))
        .order_by(dead_letters.c.archived_at.desc(), dead_letters.c.dead_letter_id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [DeadLetterView(**row) for row in rows.mappings()]


async def count_open_dead_letters(session: AsyncSession) -> int:
    return (
        await session.execute(
            sa.select(sa.func.count()).select_from(dead_letters).where(dead_letters.c.resolved_at.is_(None))
        )
    ).scalar_one()


async def has_variables(
    session: AsyncSession, delivery_id: uuid.UUID, names: Collection[str]
) -> bool:
    """Whether the delivery still stores every one of `names` (never reads a value)."""
    stored = deliveries.c.variables.has_all(sa.literal(sorted(names), ARRAY(sa.Text)))
    query = sa.select(sa.func.coalesce(stored, False)).where(deliveries.c.delivery_id == delivery_id)
    return bool((await session.execute(query)).scalar())


async def rearm(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    """Pending, due now, a fresh attempt cycle. A lease in force is kept: an attempt in flight
    finishes first (see `finish`), so a resend never makes two workers send at once."""
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(
            status="pending",
            next_attempt_at=sa.func.now(),
            cycle_attempts=0,
            # The wall clock, not the transaction start: it must be later than a claim that
            # committed while this transaction waited for the row lock.
            rearmed_at=sa.func.clock_timestamp(),
            updated_at=sa.func.now(),
        )
    )
    await resolve_dead_letters(session, delivery_id)


async def resolve_dead_letters(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(dead_letters)
        .where(dead_letters.c.delivery_id == delivery_id)
        .where(dead_letters.c.resolved_at.is_(None))
        .values(resolved_at=sa.func.now())
    )


async def notify_workers(session: AsyncSession) -> None:
    """Wake the workers when this transaction commits (Postgres delivers NOTIFY on commit)."""
    await session.execute(sa.select(sa.func.pg_notify(WAKEUP_CHANNEL, "")))


# -- the worker's side ---------------------------------------------------------------------------


async def lock_due(session: AsyncSession, *, limit: int) -> list[DueDelivery]:
    """Due, sendable, unleased deliveries, oldest due first, row-locked; rows that another
    worker is claiming right now are skipped, not waited for."""
    d = deliveries.c
    rows = await session.execute(
        sa.select(
            d.delivery_id, d.template_id, d.locale, d.recipient, d.variables,
            d.attempts, d.cycle_attempts, d.claim_attempt_id,
        )
        .where(d.status.in_(SENDABLE))
        .where(d.next_attempt_at <= sa.func.now())
        .where(sa.or_(d.claimed_until.is_(None), d.claimed_until < sa.func.now()))
        .order_by(d.next_attempt_at, d.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [DueDelivery(**{**row, "variables": row["variables"] or {}}) for row in rows.mappings()]


async def abandon_attempt(session: AsyncSession, attempt_id: uuid.UUID, *, error: str) -> None:
    await session.execute(
        sa.update(attempts)
        .where(attempts.c.attempt_id == attempt_id)
        .where(attempts.c.finished_at.is_(None))
        .values(finished_at=sa.func.now(), outcome="abandoned", error=_clip(error))
    )


async def start_attempt(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    attempt_id: uuid.UUID,
    attempt_no: int,
    worker: str,
    lease: timedelta,
) -> datetime:
    """Record the attempt and lease the delivery to `worker`; returns the attempt's start."""
    started_at = (
        await session.execute(
            sa.insert(attempts)
            .values(
                attempt_id=attempt_id,
                delivery_id=delivery_id,
                attempt_no=attempt_no,
                worker=worker,
                started_at=sa.func.now(),
            )
            .returning(attempts.c.started_at)
        )
    ).scalar_one()
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(
            attempts=deliveries.c.attempts + 1,
            cycle_attempts=deliveries.c.cycle_attempts + 1,
            claimed_until=sa.func.now() + _seconds(lease),
            claimed_by=worker,
            claim_attempt_id=attempt_id,
            updated_at=sa.func.now(),
        )
    )
    return started_at


_START_ATTEMPTS = sa.text("""
WITH started AS (
    INSERT INTO mail.attempts (attempt_id, delivery_id, attempt_no, worker, started_at)
    SELECT s.attempt_id, s.delivery_id, s.attempt_no, CAST(:worker AS text), now()
    FROM unnest(CAST(:attempt_ids AS uuid[]), CAST(:delivery_ids AS uuid[]), CAST(:attempt_nos AS integer[]))
         AS s(attempt_id, delivery_id, attempt_no)
    RETURNING delivery_id, started_at
), leased AS (
    UPDATE mail.deliveries AS d
    SET attempts = d.attempts + 1, cycle_attempts = d.cycle_attempts + 1,
        claimed_until = now() + CAST(:lease AS interval), claimed_by = CAST(:worker AS text),
        claim_attempt_id = s.attempt_id, updated_at = now()
    FROM unnest(CAST(:attempt_ids AS uuid[]), CAST(:delivery_ids AS uuid[])) AS s(attempt_id, delivery_id)
    WHERE d.delivery_id = s.delivery_id
)
SELECT delivery_id, started_at FROM started
""")


async def start_attempts(
    session: AsyncSession,
    starts: Sequence[tuple[uuid.UUID, uuid.UUID, int]],
    *,
    worker: str,
    lease: timedelta,
) -> dict[uuid.UUID, datetime]:
    """`start_attempt` for many (delivery_id, attempt_id, attempt_no) at once, in one statement;
    each delivery's attempt start."""
    if not starts:
        return {}
    rows = await session.execute(
        _START_ATTEMPTS,
        {
            "delivery_ids": [delivery_id for delivery_id, _, _ in starts],
            "attempt_ids": [attempt_id for _, attempt_id, _ in starts],
            "attempt_nos": [attempt_no for _, _, attempt_no in starts],
            "worker": worker,
            "lease": lease,
        },
    )
    return {delivery_id: started_at for delivery_id, started_at in rows.all()}


# A success is recorded whoever holds the lease (see domain/sending.py, `finish`); a delivery
# already `sent` stays as it is.
_FINISH_SENT = sa.text("""
WITH finished AS (
    UPDATE mail.attempts SET finished_at = now(), outcome = 'sent', error = NULL
    WHERE attempt_id = ANY(CAST(:attempt_ids AS uuid[]))
), sent AS (
    UPDATE mail.deliveries
    SET status = 'sent', sent_at = now(), variables = NULL, next_attempt_at = NULL, last_error = NULL,
        claimed_until = NULL, claimed_by = NULL, claim_attempt_id = NULL, updated_at = now()
    WHERE delivery_id = ANY(CAST(:delivery_ids AS uuid[])) AND status <> 'sent'
    RETURNING delivery_id
)
UPDATE mail.dead_letters SET resolved_at = now()
WHERE delivery_id IN (SELECT delivery_id FROM sent) AND resolved_at IS NULL
""")


async def finish_sent(
    session: AsyncSession, finished: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """`finish_attempt` + `mark_sent` for many (delivery_id, attempt_id) whose message the server
    accepted, in one statement: the variables (a login code) are erased with the status change."""
    if finished:
        await session.execute(
            _FINISH_SENT,
            {
                "delivery_ids": [delivery_id for delivery_id, _ in finished],
                "attempt_ids": [attempt_id for _, attempt_id in finished],
            },
        )


async def lock_claim_state(session: AsyncSession, delivery_id: uuid.UUID) -> ClaimState | None:
    d = deliveries.c
    row = (
        await session.execute(
            sa.select(d.status, d.cycle_attempts, d.claim_attempt_id, d.rearmed_at)
            .where(d.delivery_id == delivery_id)
            .with_for_update()
        )
    ).mappings().first()
    return None if row is None else ClaimState(**row)


async def finish_attempt(session: AsyncSession, attempt_id: uuid.UUID, *, outcome: str, error: str | None) -> None:
    # Overwrites an `abandoned` mark: what really happened is worth more than the guess.
    await session.execute(
        sa.update(attempts)
        .where(attempts.c.attempt_id == attempt_id)
        .values(finished_at=sa.func.now(), outcome=outcome, error=_clip(error))
    )


_RELEASE = dict(claimed_until=None, claimed_by=None, claim_attempt_id=None, updated_at=sa.func.now())


async def mark_sent(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    """Sent: the variables (the login code) are erased, nothing is due any more."""
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(status="sent", sent_at=sa.func.now(), variables=None, next_attempt_at=None, last_error=None,
                **_RELEASE)
    )
    await resolve_dead_letters(session, delivery_id)


async def mark_due_in(
    session: AsyncSession, delivery_id: uuid.UUID, *, status: str, delay: timedelta, error: str | None
) -> None:
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(status=status, next_attempt_at=sa.func.now() + _seconds(delay), last_error=_clip(error),
                **_RELEASE)
    )


async def dead_letter(
    session: AsyncSession, delivery_id: uuid.UUID, *, reason: str, erase: Collection[str] | None
) -> uuid.UUID:
    """Dead-lettered, with the variables in `erase` removed (None: all of them) in this same
    transaction: a secret such as a login code is never kept in a dead letter."""
    variables: Any = None
    if erase is not None:
        variables = deliveries.c.variables.op("-")(sa.literal(sorted(erase), ARRAY(sa.Text)))
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(status="dead_lettered", next_attempt_at=None, last_error=_clip(reason),
                variables=variables, **_RELEASE)
    )
    dead_letter_id = uuid.uuid4()
    await session.execute(
        sa.insert(dead_letters).values(dead_letter_id=dead_letter_id, delivery_id=delivery_id, reason=_clip(reason))
    )
    return dead_letter_id
