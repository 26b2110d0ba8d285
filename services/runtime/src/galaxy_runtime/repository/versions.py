"""engine_versions: the images an operator registered, by semver label."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.db import Query, ReadRow, Reads
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from galaxy_runtime.repository.tables import engine_versions

Executor = AsyncSession | AsyncConnection


_ALL_VERSIONS = Query.compile(sa.select(engine_versions).order_by(
    engine_versions.c.major, engine_versions.c.minor, engine_versions.c.patch, engine_versions.c.version
))


async def all_versions(reads: Reads) -> list[ReadRow]:
    return await reads.fetch(_ALL_VERSIONS)


async def get(db: Executor, version: str, *, for_update: bool = False) -> Row | None:
    query = sa.select(engine_versions).where(engine_versions.c.version == version)
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).one_or_none()


async def insert_new(session: AsyncSession, **values) -> Row | None:
    """The new row, or None when the version is already registered (the unique key decides races)."""
    query = insert(engine_versions).values(**values).on_conflict_do_nothing().returning(engine_versions)
    return (await session.execute(query)).one_or_none()


async def update(session: AsyncSession, version: str, **values) -> Row:
    query = sa.update(engine_versions).where(engine_versions.c.version == version).values(**values)
    return (await session.execute(query.returning(engine_versions))).one()
