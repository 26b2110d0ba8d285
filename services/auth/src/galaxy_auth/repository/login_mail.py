"""Statements on auth.login_code_mail, the queue of login codes still to be handed to mail.

A claim is a lease, committed at once: the row's next_attempt_at moves past
the lease, so no other replica claims it while this one calls mail, and no
lock is held during that call. A replica that dies mid-call leaves the row to
be claimed again when the lease ends (mail dedupes by the challenge id). The
row send-email-code writes is born leased to the replica that wrote it (see
repository/challenges.py, `issue`), which hands it to mail at once.

Every statement is one round trip in autocommit (`galaxy_kit.db.Reads`): no
ORM session, no BEGIN/COMMIT on the way of a code to mail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from galaxy_kit.db import Query, Reads

from galaxy_auth.repository.tables import login_challenges, login_code_mail


@dataclass(frozen=True)
class LoginMailRow:
    challenge_id: uuid.UUID
    recipient: str
    locale: str
    sealed_code: bytes
    attempts: int


_ROW = tuple(login_code_mail.c[name] for name in LoginMailRow.__dataclass_fields__)


def _claim(one: bool) -> Query:
    due = (
        sa.select(login_code_mail.c.challenge_id)
        .where(login_code_mail.c.next_attempt_at <= sa.func.now())
        .order_by(login_code_mail.c.next_attempt_at)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    if one:
        due = due.where(login_code_mail.c.challenge_id == sa.bindparam("challenge_id"))
    return Query.compile(
        sa.update(login_code_mail)
        .where(login_code_mail.c.challenge_id.in_(due.scalar_subquery()))
        .values(
            attempts=login_code_mail.c.attempts + 1,
            next_attempt_at=sa.func.now() + sa.bindparam("lease", type_=sa.Interval),
        )
        .returning(*_ROW)
    )


_CLAIM_DUE = _claim(one=False)
_CLAIM_ONE = _claim(one=True)
_DELETE = Query.compile(
    sa.delete(login_code_mail).where(login_code_mail.c.challenge_id == sa.bindparam("challenge_id"))
)
_DELETE_MANY = Query.compile(sa.text(
    "DELETE FROM auth.login_code_mail WHERE challenge_id = ANY(CAST(:challenge_ids AS uuid[]))"
))
_RETRY_LATER = Query.compile(
    sa.update(login_code_mail)
    .where(login_code_mail.c.challenge_id == sa.bindparam("challenge_id"))
    .values(
        next_attempt_at=sa.func.now() + sa.bindparam("delay", type_=sa.Interval),
        last_error=sa.bindparam("error", type_=sa.Text),
    )
)
_DELETE_EXPIRED = Query.compile(
    sa.delete(login_code_mail)
    .where(login_code_mail.c.challenge_id == login_challenges.c.challenge_id)
    .where(login_challenges.c.expires_at <= sa.func.now())
    .returning(login_code_mail.c.challenge_id)
)


async def claim(
    reads: Reads, *, lease: timedelta, limit: int, challenge_id: uuid.UUID | None = None
) -> list[LoginMailRow]:
    """Lease up to `limit` due rows (or the one row of `challenge_id`, when due) to this caller."""
    if challenge_id is None:
        records = await reads.write(_CLAIM_DUE, lease=lease, limit=limit)
    else:
        records = await reads.write(_CLAIM_ONE, lease=lease, limit=1, challenge_id=challenge_id)
    return [LoginMailRow(*record) for record in records]


async def delete(reads: Reads, challenge_id: uuid.UUID) -> None:
    await reads.write(_DELETE, challenge_id=challenge_id)


async def delete_many(reads: Reads, challenge_ids: list[uuid.UUID]) -> None:
    await reads.write(_DELETE_MANY, challenge_ids=challenge_ids)


async def retry_later(reads: Reads, challenge_id: uuid.UUID, *, delay: timedelta, error: str) -> None:
    await reads.write(_RETRY_LATER, challenge_id=challenge_id, delay=delay, error=error[:500])


async def delete_expired(reads: Reads) -> list[uuid.UUID]:
    """Drop rows whose challenge expired (the code is useless now); their challenge ids."""
    return [record[0] for record in await reads.write(_DELETE_EXPIRED)]
