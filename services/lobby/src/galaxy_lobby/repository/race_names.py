"""Queries on the race-name directory. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query, ReadRow, Reads
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain.vocabulary import RaceNameStatus
from galaxy_lobby.repository.tables import race_names


def live(now: datetime) -> sa.ColumnElement[bool]:
    """A row that still holds its name: anything but a pending registration past its time."""
    return sa.or_(race_names.c.status != RaceNameStatus.PENDING_REGISTRATION, race_names.c.expires_at > now)


async def holder_other_than(session: AsyncSession, canonical_key: str, user_id: uuid.UUID, now: datetime) -> bool:
    query = sa.select(sa.exists().where(
        race_names.c.canonical_key == canonical_key, race_names.c.owner_user_id != user_id, live(now)
    ))
    return bool((await session.execute(query)).scalar_one())


async def reserve(session: AsyncSession, *, canonical_key: str, name: str, user_id: uuid.UUID,
                  game_id: uuid.UUID, now: datetime) -> None:
    """A reservation of the name for the game (kept as it is when the user already holds one)."""
    await session.execute(
        sa.dialects.postgresql.insert(race_names)
        .values(canonical_key=canonical_key, name=name, owner_user_id=user_id, status=RaceNameStatus.RESERVATION,
                game_id=game_id, reserved_at=now)
        .on_conflict_do_nothing(index_elements=["canonical_key", "game_id"],
                                index_where=sa.text("status = 'reservation'"))
    )


async def release(session: AsyncSession, *, game_id: uuid.UUID, user_id: uuid.UUID,
                  canonical_key: str | None = None) -> None:
    query = sa.delete(race_names).where(
        race_names.c.game_id == game_id, race_names.c.owner_user_id == user_id,
        race_names.c.status == RaceNameStatus.RESERVATION,
    )
    if canonical_key is not None:
        query = query.where(race_names.c.canonical_key == canonical_key)
    await session.execute(query)


async def release_all_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.execute(sa.delete(race_names).where(race_names.c.owner_user_id == user_id))
    return result.rowcount or 0


_OF_USER = Query.compile(
    sa.select(race_names)
    .where(race_names.c.owner_user_id == sa.bindparam("user_id"),
           live(sa.bindparam("now", type_=sa.DateTime(timezone=True))))
    .order_by(race_names.c.race_name_id)
)


async def of_user(reads: Reads, user_id: uuid.UUID, now: datetime) -> list[ReadRow]:
    return await reads.fetch(_OF_USER, user_id=user_id, now=now)


async def registered_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).where(
        race_names.c.owner_user_id == user_id, race_names.c.status == RaceNameStatus.REGISTERED
    )
    return int((await session.execute(query)).scalar_one())


async def find(session: AsyncSession, user_id: uuid.UUID, canonical_key: str, status: RaceNameStatus,
               now: datetime) -> Row | None:
    query = (
        sa.select(race_names)
        .where(race_names.c.owner_user_id == user_id, race_names.c.canonical_key == canonical_key,
               race_names.c.status == status, live(now))
        .order_by(race_names.c.race_name_id.desc())
        .limit(1)
    )
    return (await session.execute(query)).one_or_none()


async def promote(session: AsyncSession, race_name_id: int, now: datetime) -> Row:
    query = (
        sa.update(race_names).where(race_names.c.race_name_id == race_name_id)
        .values(status=RaceNameStatus.REGISTERED, registered_at=now, expires_at=None)
        .returning(race_names)
    )
    return (await session.execute(query)).one()


async def drop_pending(session: AsyncSession, user_id: uuid.UUID, canonical_key: str) -> None:
    await session.execute(sa.delete(race_names).where(
        race_names.c.owner_user_id == user_id, race_names.c.canonical_key == canonical_key,
        race_names.c.status == RaceNameStatus.PENDING_REGISTRATION,
    ))


async def release_game(session: AsyncSession, game_id: uuid.UUID) -> None:
    """Every reservation held for the game goes (the game was cancelled)."""
    await session.execute(sa.delete(race_names).where(
        race_names.c.game_id == game_id, race_names.c.status == RaceNameStatus.RESERVATION
    ))


async def make_registrable(session: AsyncSession, game_id: uuid.UUID, *, until: datetime) -> None:
    """The game's reservations become pending registrations of their holders until `until`."""
    await session.execute(
        sa.update(race_names)
        .where(race_names.c.game_id == game_id, race_names.c.status == RaceNameStatus.RESERVATION)
        .values(status=RaceNameStatus.PENDING_REGISTRATION, source_game_id=game_id, game_id=None, expires_at=until)
    )
