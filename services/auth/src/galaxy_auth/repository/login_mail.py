"""Queries on auth.login_code_mail, the queue of login codes still to be handed to mail.

A claim is a lease, committed at once: the row's next_attempt_at moves past
the lease, so no other replica claims it while this one calls mail, and no
lock is held during that call. A replica that dies mid-call leaves the row to
be claimed again when the lease ends (mail dedupes by the challenge id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import login_challenges, login_code_mail


@dataclass(frozen=True)
class LoginMailRow:
    challenge_id: uuid.UUID
    recipient: str
    locale: str
    sealed_code: bytes
    attempts: int


async def enqueue(
    session: AsyncSession, *, challenge_id: uuid.UUID, recipient: str, locale: str, sealed_code: bytes
) -> None:
    await session.execute(
        sa.insert(login_code_mail).values(
            challenge_id=challenge_id, recipient=recipient, locale=locale, sealed_code=sealed_code
        )
    )


async def claim(
    session: AsyncSession, *, lease: timedelta, limit: int, challenge_id: uuid.UUID | None = None
) -> list[LoginMailRow]:
    """Lease up to `limit` due rows (or the one row of `challenge_id`, when due) to this caller."""
    due = (
        sa.select(login_code_mail.c.challenge_id)
        .where(login_code_mail.c.next_attempt_at <= sa.func.now())
        .order_by(login_code_mail.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if challenge_id is not None:
        due = due.where(login_code_mail.c.challenge_id == challenge_id)
    rows = (
        await session.execute(
            sa.update(login_code_mail)
            .where(login_code_mail.c.challenge_id.in_(due.scalar_subquery()))
            .values(attempts=login_code_mail.c.attempts + 1, next_attempt_at=sa.func.now() + lease)
            .returning(*(login_code_mail.c[name] for name in LoginMailRow.__dataclass_fields__))
        )
    ).mappings().all()
    return [LoginMailRow(**row) for row in rows]


async def delete(session: AsyncSession, challenge_id: uuid.UUID) -> None:
    await session.execute(sa.delete(login_code_mail).where(login_code_mail.c.challenge_id == challenge_id))


async def retry_later(session: AsyncSession, challenge_id: uuid.UUID, *, delay: timedelta, error: str) -> None:
    await session.execute(
        sa.update(login_code_mail)
        .where(login_code_mail.c.challenge_id == challenge_id)
        .values(next_attempt_at=sa.func.now() + delay, last_error=error[:500])
    )


async def delete_expired(session: AsyncSession) -> list[uuid.UUID]:
    """Drop rows whose challenge expired (the code is useless now); their challenge ids."""
    return list(
        (
            await session.execute(
                sa.delete(login_code_mail)
                .where(login_code_mail.c.challenge_id == login_challenges.c.challenge_id)
                .where(login_challenges.c.expires_at <= sa.func.now())
                .returning(login_code_mail.c.challenge_id)
            )
        ).scalars()
    )
