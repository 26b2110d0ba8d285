"""Queries on auth.admin_accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import admin_accounts


@dataclass(frozen=True)
class AdminAccountRow:
    username: str
    password_hash: str
    status: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None
    last_used_at: datetime | None


async def get(session: AsyncSession, username: str) -> AdminAccountRow | None:
    row = (
        await session.execute(sa.select(admin_accounts).where(admin_accounts.c.username == username))
    ).mappings().first()
    return None if row is None else AdminAccountRow(
        **{k: row[k] for k in AdminAccountRow.__dataclass_fields__}
    )


async def any_exists(session: AsyncSession) -> bool:
    return (await session.execute(sa.select(sa.exists().select_from(admin_accounts)))).scalar_one()


async def insert_if_absent(session: AsyncSession, *, username: str, password_hash: str) -> bool:
    result = await session.execute(
        insert(admin_accounts)
        .values(username=username, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[admin_accounts.c.username])
    )
    return result.rowcount == 1


async def touch_last_used(session: AsyncSession, username: str, *, older_than: datetime) -> None:
    await session.execute(
        sa.update(admin_accounts)
        .where(admin_accounts.c.username == username)
        .where(sa.or_(admin_accounts.c.last_used_at.is_(None), admin_accounts.c.last_used_at < older_than))
        .values(last_used_at=sa.func.now())
    )


async def lock_table_for_bootstrap(session: AsyncSession) -> None:
    """Serialise the first-administrator check across replicas starting at once."""
    await session.execute(sa.text("LOCK TABLE auth.admin_accounts IN SHARE ROW EXCLUSIVE MODE"))
