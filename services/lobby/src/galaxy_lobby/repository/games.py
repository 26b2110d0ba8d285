"""Queries on games and their transitions. Nothing here commits.

Reads outside a unit of work (the lists, a game's detail) are one statement each on
galaxy_kit.db.Reads, compiled once here; the functions that take a session run inside one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query, ReadRow, Reads
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain.vocabulary import GameStatus, MembershipStatus, Visibility
from galaxy_lobby.repository.tables import (
    PUBLIC_LISTED,
    game_counts,
    game_transitions,
    games,
    memberships,
    public_list_version,
)


def _active_members(game_id_column) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.count())
        .where(memberships.c.game_id == game_id_column, memberships.c.status == MembershipStatus.ACTIVE)
        .scalar_subquery()
    )


async def insert(session: AsyncSession, **values) -> None:
    await session.execute(sa.insert(games).values(**values))


async def get(session: AsyncSession, game_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    query = sa.select(games).where(games.c.game_id == game_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


_READ = Query.compile(sa.select(games).where(games.c.game_id == sa.bindparam("game_id")))


async def read(reads: Reads, game_id: uuid.UUID) -> ReadRow | None:
    return await reads.fetchrow(_READ, game_id=game_id)


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


async def active_member_count(session: AsyncSession, game_id: uuid.UUID) -> int:
    return int((await session.execute(sa.select(_active_members(sa.literal(game_id))))).scalar_one())


def _total(listed: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    """How many games match `listed`, from the per-status deltas (tables.game_counts), not by counting
    games: a sum over a few dozen rows however many games there are."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(game_counts.c.n), sa.literal_column("0")))
        .where(listed)
        .scalar_subquery()
    )


#: What a page of the public list shows of a game (the servicer's GameSummary); the admin list
#: shows every column. Fewer columns, less for asyncpg to decode fifty times per page. A public page
#: row is these columns, then the list's version, then the total (servicer.page_summaries keys its
#: cache on the values before those two).
SUMMARY_COLUMNS = (
    games.c.game_id, games.c.game_name, games.c.visibility, games.c.owner_user_id, games.c.status,
    games.c.min_players, games.c.max_players, games.c.enrollment_ends_at, games.c.current_turn,
    games.c.created_at, games.c.updated_at,
)

#: The public list's version (tables.public_list_version), in the snapshot of the statement reading it.
_VERSION = sa.select(public_list_version.c.version).scalar_subquery()


def _page_query(listed: sa.ColumnElement[bool], columns, extra=()) -> tuple[Query, Query]:  # noqa: ANN001
    """The page statement and the total's alone (with `extra` columns in both); `listed` (unqualified
    columns) filters both tables."""
    total = _total(listed)
    rows = (
        sa.select(*columns, *extra, total.label("total"))
        .where(listed)
        .order_by(games.c.created_at.desc(), games.c.game_id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.BigInteger))  # page × page_size can pass 2³¹
    )
    return Query.compile(rows), Query.compile(sa.select(*extra, total.label("total")))


# Literal values in the predicate: the generic plan of the prepared statement keeps using the
# partial index games_public_listing.
_PUBLIC_PAGE, _PUBLIC_TOTAL = _page_query(sa.text(PUBLIC_LISTED), SUMMARY_COLUMNS,
                                          [_VERSION.label("version")])
_ALL_PAGE, _ALL_TOTAL = _page_query(sa.true(), games.c)
_PUBLIC_VERSION = Query.compile(sa.select(public_list_version.c.version))


async def page(reads: Reads, *, page: int, page_size: int) -> tuple[list[ReadRow], int]:
    """One page of every game (every column), newest first, and the total, in one statement.

    The total is an uncorrelated scalar subquery over game_counts, computed once per
    statement and read in the statement's snapshot, so it agrees with the page.
    """
    rows = await reads.fetch(_ALL_PAGE, limit=page_size, offset=(page - 1) * page_size)
    if rows:
        return rows, int(rows[0]["total"])
    # Past the last page no row carries the total: read it on its own (rare).
    return [], int(await reads.fetchval(_ALL_TOTAL))


async def public_page(reads: Reads, *, page: int, page_size: int) -> tuple[list[ReadRow], int, int]:
    """One page of the public list (SUMMARY_COLUMNS), newest first, its total and the list's version,
    all in one statement's snapshot: the version names exactly the state the page and total show."""
    rows = await reads.fetch(_PUBLIC_PAGE, limit=page_size, offset=(page - 1) * page_size)
    # Past the last page no row carries the total and version: read them on their own (rare).
    first = rows[0] if rows else await reads.fetchrow(_PUBLIC_TOTAL)
    return rows, int(first["total"]), int(first["version"])


async def public_list_version(reads: Reads) -> int:
    """The public list's version now: it moves with every committed change of a public game."""
    return int(await reads.fetchval(_PUBLIC_VERSION))


_OF_USER = Query.compile(
    sa.select(games)
    .where(sa.or_(
        games.c.owner_user_id == sa.bindparam("user_id"),
        games.c.game_id.in_(sa.select(memberships.c.game_id).where(
            memberships.c.user_id == sa.bindparam("user_id"), memberships.c.status == MembershipStatus.ACTIVE,
        )),
    ))
    .order_by(games.c.created_at.desc(), games.c.game_id.desc())
)


async def of_user(reads: Reads, user_id: uuid.UUID) -> list[ReadRow]:
    """Games the user owns or is an active member of, newest first."""
    return await reads.fetch(_OF_USER, user_id=user_id)


_COMPACT_COUNTS = sa.text("""
    WITH folded AS (DELETE FROM lobby.game_counts RETURNING visibility, status, n)
    INSERT INTO lobby.game_counts (visibility, status, n)
    SELECT visibility, status, sum(n) FROM folded GROUP BY visibility, status HAVING sum(n) <> 0
""")


async def compact_counts(session: AsyncSession) -> None:
    """Fold game_counts' deltas into one row per (visibility, status); the sums stay the same.

    Safe beside writers and other compactors: a delta committed after this statement's snapshot
    is neither deleted nor summed, and a row another compactor deleted first is skipped.
    """
    await session.execute(_COMPACT_COUNTS)


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
