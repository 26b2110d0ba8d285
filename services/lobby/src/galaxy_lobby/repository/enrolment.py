"""Queries on applications, memberships and invites. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from galaxy_kit.db import Query, ReadRow, Reads
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain.vocabulary import (
    TERMINAL,
    ApplicationStatus,
    InviteStatus,
    MembershipStatus,
)
from galaxy_lobby.repository.tables import applications, games, invites, memberships

# ---- counts behind account's limits ----


async def active_games_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Games not finished or cancelled that the user owns or is an active member of."""
    member_of = sa.select(memberships.c.game_id).where(
        memberships.c.user_id == user_id, memberships.c.status == MembershipStatus.ACTIVE
    )
    query = sa.select(sa.func.count()).select_from(games).where(
        games.c.status.not_in(TERMINAL),
        sa.or_(games.c.owner_user_id == user_id, games.c.game_id.in_(member_of)),
    )
    return int((await session.execute(query)).scalar_one())


async def pending_applications_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).where(
        applications.c.applicant_user_id == user_id, applications.c.status == ApplicationStatus.PENDING
    )
    return int((await session.execute(query)).scalar_one())


async def pending_invites_issued_by(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    query = sa.select(sa.func.count()).where(
        invites.c.inviter_user_id == user_id, invites.c.status == InviteStatus.PENDING, invites.c.expires_at > now
    )
    return int((await session.execute(query)).scalar_one())


# ---- applications ----


async def insert_application(session: AsyncSession, **values) -> Row:
    return (await session.execute(sa.insert(applications).values(**values).returning(applications))).one()


_READ_APPLICATION = Query.compile(
    sa.select(applications).where(applications.c.application_id == sa.bindparam("application_id"))
)


async def read_application(reads: Reads, application_id: uuid.UUID) -> ReadRow | None:
    return await reads.fetchrow(_READ_APPLICATION, application_id=application_id)


async def get_application(session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    query = sa.select(applications).where(applications.c.application_id == application_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def decide_application(session: AsyncSession, application_id: uuid.UUID, *, status: ApplicationStatus,
                             now: datetime, by: str) -> Row:
    query = (
        sa.update(applications).where(applications.c.application_id == application_id)
        .values(status=status, decided_at=now, decided_by=by).returning(applications)
    )
    return (await session.execute(query)).one()


async def has_pending_application(session: AsyncSession, game_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    query = sa.select(sa.exists().where(
        applications.c.game_id == game_id, applications.c.applicant_user_id == user_id,
        applications.c.status == ApplicationStatus.PENDING,
    ))
    return bool((await session.execute(query)).scalar_one())


_APPLICATIONS_OF = Query.compile(
    sa.select(applications)
    .where(applications.c.applicant_user_id == sa.bindparam("user_id"),
           applications.c.status != ApplicationStatus.WITHDRAWN)
    .order_by(applications.c.created_at.desc())
)


async def applications_of(reads: Reads, user_id: uuid.UUID) -> list[ReadRow]:
    return await reads.fetch(_APPLICATIONS_OF, user_id=user_id)


async def withdraw_applications_of(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        sa.update(applications)
        .where(applications.c.applicant_user_id == user_id, applications.c.status == ApplicationStatus.PENDING)
        .values(status=ApplicationStatus.WITHDRAWN, decided_at=now, decided_by="system:account_lifecycle")
    )
    return result.rowcount or 0


# ---- memberships ----


async def insert_membership(session: AsyncSession, **values) -> Row:
    return (await session.execute(sa.insert(memberships).values(**values).returning(memberships))).one()


async def get_membership(session: AsyncSession, membership_id: uuid.UUID) -> Row | None:
    query = sa.select(memberships).where(memberships.c.membership_id == membership_id)
    return (await session.execute(query)).one_or_none()


async def member_state(session: AsyncSession, game_id: uuid.UUID, user_id: uuid.UUID) -> set[str]:
    """The statuses of the user's memberships in the game (active, removed, blocked)."""
    query = sa.select(memberships.c.status).where(
        memberships.c.game_id == game_id, memberships.c.user_id == user_id
    ).distinct()
    return set((await session.execute(query)).scalars())


async def latest_membership(session: AsyncSession, game_id: uuid.UUID, user_id: uuid.UUID) -> Row | None:
    query = (
        sa.select(memberships)
        .where(memberships.c.game_id == game_id, memberships.c.user_id == user_id)
        .order_by((memberships.c.status == MembershipStatus.ACTIVE).desc(), memberships.c.joined_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).one_or_none()


async def end_membership(session: AsyncSession, membership_id: uuid.UUID, *, status: MembershipStatus,
                         now: datetime, by: str, reason: str | None) -> Row:
    query = (
        sa.update(memberships).where(memberships.c.membership_id == membership_id)
        .values(status=status, removed_at=now, removed_by=by, reason=reason).returning(memberships)
    )
    return (await session.execute(query)).one()


_MEMBERSHIPS_OF_GAME = Query.compile(
    sa.select(memberships).where(memberships.c.game_id == sa.bindparam("game_id"))
    .order_by(memberships.c.joined_at, memberships.c.membership_id)
)


async def memberships_of_game(reads: Reads, game_id: uuid.UUID) -> list[ReadRow]:
    return await reads.fetch(_MEMBERSHIPS_OF_GAME, game_id=game_id)


_ACTIVE_MEMBERSHIP = Query.compile(
    sa.select(memberships).where(
        memberships.c.game_id == sa.bindparam("game_id"), memberships.c.user_id == sa.bindparam("user_id"),
        memberships.c.status == MembershipStatus.ACTIVE,
    )
)


async def active_membership(reads: Reads, game_id: uuid.UUID, user_id: uuid.UUID) -> ReadRow | None:
    return await reads.fetchrow(_ACTIVE_MEMBERSHIP, game_id=game_id, user_id=user_id)


async def active_roster(session: AsyncSession, game_id: uuid.UUID) -> list[Row]:
    query = sa.select(memberships.c.user_id, memberships.c.race_name).where(
        memberships.c.game_id == game_id, memberships.c.status == MembershipStatus.ACTIVE
    ).order_by(memberships.c.joined_at)
    return list((await session.execute(query)).all())


async def active_memberships_of(session: AsyncSession, user_id: uuid.UUID) -> list[Row]:
    query = sa.select(memberships).where(
        memberships.c.user_id == user_id, memberships.c.status == MembershipStatus.ACTIVE
    )
    return list((await session.execute(query)).all())


# ---- invites ----


async def insert_invite(session: AsyncSession, **values) -> Row:
    return (await session.execute(sa.insert(invites).values(**values).returning(invites))).one()


async def get_invite(session: AsyncSession, invite_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    query = sa.select(invites).where(invites.c.invite_id == invite_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def find_redeemable(session: AsyncSession, game_id: uuid.UUID, key: uuid.UUID, user_id: uuid.UUID,
                          *, for_update: bool = False) -> Row | None:
    """The invite the path's {invite_id} names for this user: their own user-bound invite by its id,
    or a code-based invite by its code."""
    query = sa.select(invites).where(
        invites.c.game_id == game_id,
        sa.or_(sa.and_(invites.c.invite_id == key, invites.c.invited_user_id == user_id), invites.c.code == key),
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def set_invite(session: AsyncSession, invite_id: uuid.UUID, **values) -> Row:
    query = sa.update(invites).where(invites.c.invite_id == invite_id).values(**values).returning(invites)
    return (await session.execute(query)).one()


_INVITES_FOR = Query.compile(
    sa.select(invites)
    .where(sa.or_(invites.c.invited_user_id == sa.bindparam("user_id"),
                  sa.and_(invites.c.inviter_user_id == sa.bindparam("user_id"), invites.c.code.is_not(None))))
    .order_by(invites.c.created_at.desc())
)


async def invites_for(reads: Reads, user_id: uuid.UUID) -> list[ReadRow]:
    """Invites addressed to the user and code-based invites the user issued, newest first."""
    return await reads.fetch(_INVITES_FOR, user_id=user_id)


async def revoke_invites_of(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        sa.update(invites)
        .where(invites.c.status == InviteStatus.PENDING,
               sa.or_(invites.c.inviter_user_id == user_id, invites.c.invited_user_id == user_id))
        .values(status=InviteStatus.REVOKED, decided_at=now)
    )
    return result.rowcount or 0


# ---- a game's end ----


async def active_member_ids(session: AsyncSession, game_id: uuid.UUID) -> list[uuid.UUID]:
    query = sa.select(memberships.c.user_id).where(
        memberships.c.game_id == game_id, memberships.c.status == MembershipStatus.ACTIVE
    ).order_by(memberships.c.joined_at)
    return list((await session.execute(query)).scalars())


async def reject_pending_of_game(session: AsyncSession, game_id: uuid.UUID, *, now: datetime,
                                 by: str) -> list[Row]:
    """Reject every pending application of the game; (applicant_user_id, application_id) of each."""
    query = (
        sa.update(applications)
        .where(applications.c.game_id == game_id, applications.c.status == ApplicationStatus.PENDING)
        .values(status=ApplicationStatus.REJECTED, decided_at=now, decided_by=by)
        .returning(applications.c.applicant_user_id, applications.c.application_id)
    )
    return list((await session.execute(query)).all())


async def revoke_pending_of_game(session: AsyncSession, game_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        sa.update(invites)
        .where(invites.c.game_id == game_id, invites.c.status == InviteStatus.PENDING)
        .values(status=InviteStatus.REVOKED, decided_at=now)
    )
