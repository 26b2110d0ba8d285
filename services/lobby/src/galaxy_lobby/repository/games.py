"""Queries on games and their transitions. Nothing here commits; reads are one statement each."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from galaxy_lobby.domain.vocabulary import GameStatus, MembershipStatus, Visibility
from galaxy_lobby.repository.tables import PUBLIC_LISTED, game_transitions, games, memberships

Executor = AsyncSession | AsyncConnection


def _active_members(game_id_column) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.count())
        .where(memberships.c.game_id == game_id_column, memberships.c.status == MembershipStatus.ACTIVE)
        .scalar_subquery()
    )


async def insert(session: AsyncSession, **values) -> None:
    await session.execute(sa.insert(games).values(**values))


async def get(db: Executor, game_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    query = sa.select(games).where(games.c.game_id == game_id)
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).one_or_none()


async def get_many_for_update(session: AsyncSession, game_ids: list[uuid.UUID]) -> list[Row]:
    """Lock several games in one fixed order (by id), so two such callers never deadlock."""
    if not game_ids:
        return []
    query = sa.select(games).where(games.c.game_id.in_(game_ids)).order_by(games.c.game_id).with_for_update()
    return list((await session.execute(query)).all())


async def update(session: AsyncSession, game_id: uuid.UUID, **values) -> Row:
    query = sa.update(games).where(games.c.game_id == game_id).values(**values).returning(games)
    return (await session.execute(query)).one()


async def record_transition(
    session: AsyncSession, *, game_id: uuid.UUID, from_status: str | None, to_status: str, actor_kind: str,
    actor_id: str, reason: str, at: datetime,
) -> None:
    await session.execute(sa.insert(game_transitions).values(
        game_id=game_id, from_status=from_status, to_status=to_status, actor_kind=actor_kind,
        actor_id=actor_id, reason=reason, at=at,
    ))


async def last_transition_at(session: AsyncSession, game_id: uuid.UUID) -> datetime | None:
    """When the game last changed status (the newest row of its history)."""
    return (await session.execute(
        sa.select(game_transitions.c.at).where(game_transitions.c.game_id == game_id)
        .order_by(game_transitions.c.transition_id.desc()).limit(1)
    )).scalar_one_or_none()


async def active_member_count(db: Executor, game_id: uuid.UUID) -> int:
    return int((await db.execute(sa.select(_active_members(sa.literal(game_id))))).scalar_one())


async def page(db: Executor, *, public_only: bool, page: int, page_size: int) -> tuple[list[Row], int]:
    """One page, newest first, and the total, in one round trip.

    The total is an uncorrelated scalar subquery (computed once, an index-only count), not
    `count(*) OVER ()`, which would buffer every matching row to count them.
    """
    listed = sa.text(PUBLIC_LISTED) if public_only else sa.true()
    counted = games.alias("counted")
    total = sa.select(sa.func.count()).select_from(counted).where(listed).scalar_subquery()
    query = (
        sa.select(games, total.label("total"))
        .where(listed)
        .order_by(games.c.created_at.desc(), games.c.game_id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = list((await db.execute(query)).all())
    if rows:
        return rows, int(rows[0].total)
    # Past the last page no row carries the total: count on its own (rare).
    return [], int((await db.execute(sa.select(total))).scalar_one())


async def of_user(db: Executor, user_id: uuid.UUID) -> list[Row]:
    """Games the user owns or is an active member of, newest first."""
    member_of = sa.select(memberships.c.game_id).where(
        memberships.c.user_id == user_id, memberships.c.status == MembershipStatus.ACTIVE
    )
    query = (
        sa.select(games)
        .where(sa.or_(games.c.owner_user_id == user_id, games.c.game_id.in_(member_of)))
        .order_by(games.c.created_at.desc(), games.c.game_id.desc())
    )
    return list((await db.execute(query)).all())


async def owned_unstarted(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    query = sa.select(games.c.game_id).where(
        games.c.owner_user_id == user_id,
        games.c.status.in_([GameStatus.DRAFT, GameStatus.ENROLLMENT_OPEN, GameStatus.READY_TO_START,
                            GameStatus.STARTING, GameStatus.START_FAILED]),
    )
    return list((await session.execute(query)).scalars())


async def public_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Row]:
    """Public enrolling games the scheduler may have to move (docs/lobby.md, "Public games").

    The filter is a superset of the rules of domain/scheduler.decide, so games with nothing to do
    are never read. Rows are locked with SKIP LOCKED: replicas share the work instead of waiting.
    """
    active = _active_members(games.c.game_id)
    opened = games.c.status == GameStatus.ENROLLMENT_OPEN
    ready = games.c.status == GameStatus.READY_TO_START
    query = (
        sa.select(games, active.label("active_members"))
        .where(
            games.c.visibility == Visibility.PUBLIC,
            games.c.status.in_([GameStatus.ENROLLMENT_OPEN, GameStatus.READY_TO_START]),
            sa.or_(
                games.c.enrollment_ends_at <= now,
                sa.and_(opened, active >= games.c.min_players),
                sa.and_(ready, sa.or_(
                    active < games.c.min_players,
                    active >= games.c.max_players,
                    sa.and_(games.c.start_gap_players > 0,
                            active >= games.c.min_players + games.c.start_gap_players),
                    sa.and_(games.c.start_gap_hours > 0,
                            games.c.quorum_at + sa.func.make_interval(0, 0, 0, 0, games.c.start_gap_hours)
                            <= now),
                )),
            ),
        )
        .order_by(games.c.enrollment_ends_at)
        .limit(limit)
        .with_for_update(of=games, skip_locked=True)
    )
    return list((await session.execute(query)).all())
