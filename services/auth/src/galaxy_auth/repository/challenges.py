"""Queries on auth.login_challenges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import login_challenges

#: First key of the two-key advisory locks auth takes per address ('auth').
_ADDRESS_LOCK_CLASS = 0x61757468


@dataclass(frozen=True)
class ChallengeRow:
    challenge_id: uuid.UUID
    email: str
    email_key: str
    code_hash: bytes
    locale: str
    created_at: datetime
    expires_at: datetime
    failed_attempts: int
    consumed_at: datetime | None
    expired: bool


async def lock_address(session: AsyncSession, email_key: str) -> None:
    """Serialise code requests for one address until the transaction ends (the rate limit counts rows)."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:cls, hashtext(:key))"),
        {"cls": _ADDRESS_LOCK_CLASS, "key": email_key},
    )


async def count_recent(session: AsyncSession, email_key: str, *, window: timedelta) -> int:
    return (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(login_challenges)
            .where(login_challenges.c.email_key == email_key)
            .where(login_challenges.c.created_at > sa.func.now() - window)
        )
    ).scalar_one()


async def insert(
    session: AsyncSession,
    *,
    challenge_id: uuid.UUID,
    email: str,
    email_key: str,
    code_hash: bytes,
    locale: str,
    ttl: timedelta,
) -> None:
    await session.execute(
        sa.insert(login_challenges).values(
            challenge_id=challenge_id,
            email=email,
            email_key=email_key,
            code_hash=code_hash,
            locale=locale,
            expires_at=sa.func.now() + ttl,
        )
    )


async def get(session: AsyncSession, challenge_id: uuid.UUID, *, for_update: bool = False) -> ChallengeRow | None:
    """The challenge; with `for_update`, row-locked until the transaction ends (concurrent confirms queue)."""
    query = sa.select(
        login_challenges, (login_challenges.c.expires_at <= sa.func.now()).label("expired")
    ).where(login_challenges.c.challenge_id == challenge_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else ChallengeRow(**{k: row[k] for k in ChallengeRow.__dataclass_fields__})


async def record_failed_attempt(session: AsyncSession, challenge_id: uuid.UUID, *, max_attempts: int) -> int | None:
    """Count a wrong code on a still open challenge; its failed attempts now, None when it is closed."""
    return (
        await session.execute(
            sa.update(login_challenges)
            .where(login_challenges.c.challenge_id == challenge_id)
            .where(login_challenges.c.consumed_at.is_(None))
            .where(login_challenges.c.expires_at > sa.func.now())
            .where(login_challenges.c.failed_attempts < max_attempts)
            .values(failed_attempts=login_challenges.c.failed_attempts + 1)
            .returning(login_challenges.c.failed_attempts)
        )
    ).scalar_one_or_none()


async def mark_consumed(session: AsyncSession, challenge_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(login_challenges)
        .where(login_challenges.c.challenge_id == challenge_id)
        .values(consumed_at=sa.func.now())
    )


async def delete_stale(session: AsyncSession, *, older_than: timedelta) -> int:
    """Drop challenges that expired more than `older_than` ago (they no longer count anywhere)."""
    result = await session.execute(
        sa.delete(login_challenges).where(login_challenges.c.expires_at < sa.func.now() - older_than)
    )
    return result.rowcount
