"""Queries on auth.admin_accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query, Reads
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


def _row(row) -> AdminAccountRow:
    return AdminAccountRow(**{k: row[k] for k in AdminAccountRow.__dataclass_fields__})


async def get(session: AsyncSession, username: str, *, for_update: bool = False) -> AdminAccountRow | None:
    query = sa.select(admin_accounts).where(admin_accounts.c.username == username)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else _row(row)


_COLUMNS = tuple(admin_accounts.c[name] for name in AdminAccountRow.__dataclass_fields__)
_BY_USERNAME = Query.compile(sa.select(*_COLUMNS).where(admin_accounts.c.username == sa.bindparam("username")))
_ALL = Query.compile(sa.select(*_COLUMNS).order_by(admin_accounts.c.username))


async def read(reads: Reads, username: str) -> AdminAccountRow | None:
    """The account as stored, in one prepared statement outside any transaction (every admin check)."""
    record = await reads.fetchrow(_BY_USERNAME, username=username)
    return None if record is None else AdminAccountRow(*record)


async def read_all(reads: Reads) -> list[AdminAccountRow]:
    """Every account by username, in one prepared statement outside any transaction."""
    return [AdminAccountRow(*record) for record in await reads.fetch(_ALL)]


async def create(session: AsyncSession, *, username: str, password_hash: str) -> AdminAccountRow | None:
    """The new account, or None when the username is taken."""
    row = (
        await session.execute(
            insert(admin_accounts)
            .values(username=username, password_hash=password_hash)
            .on_conflict_do_nothing(index_elements=[admin_accounts.c.username])
            .returning(*admin_accounts.c)
        )
    ).mappings().first()
    return None if row is None else _row(row)


async def count_active_for_update(session: AsyncSession) -> int:
    """Active administrators, row-locked so two concurrent disables cannot both pass a count check."""
    rows = (
        await session.execute(
            sa.select(admin_accounts.c.username)
            .where(admin_accounts.c.status == "active")
            .order_by(admin_accounts.c.username)
            .with_for_update()
        )
    ).all()
    return len(rows)


async def set_disabled(session: AsyncSession, username: str, *, disabled: bool) -> AdminAccountRow:
    """Disable (keeping the first disabled_at) or enable an existing account."""
    values = (
        {"status": "disabled", "disabled_at": sa.func.coalesce(admin_accounts.c.disabled_at, sa.func.now())}
        if disabled
        else {"status": "active", "disabled_at": None}
    )
    row = (
        await session.execute(
            sa.update(admin_accounts)
            .where(admin_accounts.c.username == username)
            .values(updated_at=sa.func.now(), **values)
            .returning(*admin_accounts.c)
        )
    ).mappings().one()
    return _row(row)


async def set_password_hash(session: AsyncSession, username: str, *, password_hash: str) -> AdminAccountRow:
    row = (
        await session.execute(
            sa.update(admin_accounts)
            .where(admin_accounts.c.username == username)
            .values(password_hash=password_hash, password_changed_at=sa.func.now(), updated_at=sa.func.now())
            .returning(*admin_accounts.c)
        )
    ).mappings().one()
    return _row(row)


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
