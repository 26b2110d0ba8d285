"""Queries on auth.admin_check_attempts (throttling of admin credential checks, docs/auth.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import admin_check_attempts


async def record(session: AsyncSession, keys: list[tuple[str, str]]) -> list[uuid.UUID]:
    """One attempt row per (scope, key); their ids."""
    rows = [{"attempt_id": uuid.uuid4(), "scope": scope, "key": key} for scope, key in keys]
    await session.execute(sa.insert(admin_check_attempts), rows)
    return [row["attempt_id"] for row in rows]


async def count_recent(session: AsyncSession, keys: list[tuple[str, str]], *, window: timedelta) -> dict[str, int]:
    """Attempts per scope within the window, for the given (scope, key) pairs."""
    table = admin_check_attempts
    rows = await session.execute(
        sa.select(table.c.scope, sa.func.count())
        .where(sa.tuple_(table.c.scope, table.c.key).in_(keys))
        .where(table.c.attempted_at > sa.func.now() - window)
        .group_by(table.c.scope)
    )
    return {scope: count for scope, count in rows.all()}


async def delete(session: AsyncSession, attempt_ids: list[uuid.UUID]) -> None:
    if attempt_ids:
        await session.execute(sa.delete(admin_check_attempts).where(admin_check_attempts.c.attempt_id.in_(attempt_ids)))


async def delete_stale(session: AsyncSession, *, older_than: timedelta) -> int:
    result = await session.execute(
        sa.delete(admin_check_attempts).where(admin_check_attempts.c.attempted_at < sa.func.now() - older_than)
    )
    return result.rowcount
