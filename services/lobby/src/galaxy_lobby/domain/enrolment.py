"""Applications, invites and memberships (docs/lobby.md).

Every change that adds an active member locks the game row first (SELECT ... FOR UPDATE), counts
the active members under that lock and refuses the last-but-one seat's successor: never more
active members than max_players, whatever runs concurrently. Then the member's user lock (the
active-games and pending counts behind account's limits), then the race-name lock.
Account's allowance is fetched before the transaction opens (no remote call under a lock).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.clients import Allowance
from galaxy_lobby.domain import notify, race_names, validation
from galaxy_lobby.domain.actors import Actor
from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.domain.games import USER_GAMES_LOCK, ensure_room_for_game, locked
from galaxy_lobby.domain.vocabulary import (
    EDITABLE,
    ENROLLING,
    TERMINAL,
    ApplicationStatus,
    GameStatus,
    InviteStatus,
    MembershipStatus,
    NotifyKind,
    Visibility,
)
from galaxy_lobby.repository import enrolment as repo
from galaxy_lobby.repository import games as games_repo

#: How long an invite stays redeemable when the request names no expires_at.
DEFAULT_INVITE_TTL = timedelta(days=7)
#: The furthest an invite may expire.
MAX_INVITE_TTL = timedelta(days=90)


@dataclass(frozen=True)
class Seat:
    """A request for an active membership: who, under which name."""

    user_id: uuid.UUID
    race_name: str
    canonical_key: str


def _enrolling(game: Row, now: datetime) -> None:
    if game.status not in ENROLLING:
        raise Conflict(f"the game is not enrolling (it is {game.status})")
    if game.enrollment_ends_at <= now:
        raise Conflict("the game's enrollment has ended")


async def _may_join(session: AsyncSession, game: Row, user_id: uuid.UUID) -> None:
    states = await repo.member_state(session, game.game_id, user_id)
    if MembershipStatus.BLOCKED in states:
        raise Conflict("the player is blocked from this game")
    if MembershipStatus.ACTIVE in states:
        raise Conflict("the player is already a member of this game")


async def _seat(session: AsyncSession, game: Row, seat: Seat, allowance: Allowance, now: datetime) -> Row:
    """Add an active membership, within max_players and the member's allowance (game row locked)."""
    await _may_join(session, game, seat.user_id)
    active = await games_repo.active_member_count(session, game.game_id)
    if active >= game.max_players:
        raise Conflict(f"the game is full ({active} of {game.max_players} seats taken)")
    await ensure_room_for_game(session, seat.user_id, allowance.max_active_games, who="player")
    await race_names.claim_for_game(session, user_id=seat.user_id, name=seat.race_name,
                                    canonical_key=seat.canonical_key, game_id=game.game_id, now=now)
    return await repo.insert_membership(
        session, membership_id=uuid.uuid4(), game_id=game.game_id, user_id=seat.user_id, race_name=seat.race_name,
        canonical_key=seat.canonical_key, status=MembershipStatus.ACTIVE, joined_at=now,
    )


def _named(raw: str) -> tuple[str, str]:
    name = validation.race_name(raw)
    return name, validation.canonical_key(name)


# ---- applications ----


async def submit(deps: Deps, *, user_id: str, game_id: str, race_name: str, now: datetime) -> Row:
    applicant = validation.parse_uuid(user_id, "user_id")
    parsed = validation.parse_uuid(game_id, "game_id")
    name, key = _named(race_name)
    allowance = await deps.accounts.allowance(str(applicant))
    async with transaction(deps.sessions) as session:
        game = await locked(session, parsed)
        _enrolling(game, now)
        await _may_join(session, game, applicant)
        if await repo.has_pending_application(session, parsed, applicant):
            raise Conflict("you already have a pending application to this game")
        if game.visibility == Visibility.PUBLIC:
            # Public games have no owner to decide: a seat is granted while one remains.
            await _seat(session, game, Seat(applicant, name, key), allowance, now)
            application = await repo.insert_application(
                session, application_id=uuid.uuid4(), game_id=parsed, applicant_user_id=applicant, race_name=name,
                canonical_key=key, status=ApplicationStatus.APPROVED, created_at=now, decided_at=now,
                decided_by="system:public_game",
            )
            await _tell_decided(session, game, application, now)
            return application
        await ensure_room_for_game(session, applicant, allowance.max_active_games)
        pending = await repo.pending_applications_of(session, applicant)
        if pending >= allowance.max_pending_applications:
            raise Conflict(f"you have {pending} pending applications; the allowance is "
                           f"{allowance.max_pending_applications}")
        await race_names.claim_for_game(session, user_id=applicant, name=name, canonical_key=key, game_id=parsed,
                                        now=now)
        application = await repo.insert_application(
            session, application_id=uuid.uuid4(), game_id=parsed, applicant_user_id=applicant, race_name=name,
            canonical_key=key, status=ApplicationStatus.PENDING, created_at=now,
        )
        await notify.intend(
            session, kind=NotifyKind.APPLICATION_SUBMITTED, recipients=[game.owner_user_id], now=now,
            params={"game_id": parsed, "game_name": game.game_name, "application_id": application.application_id,
                    "applicant_user_id": applicant, "race_name": name},
        )
        return application


async def _tell_decided(session: AsyncSession, game: Row, application: Row, now: datetime) -> None:
    await notify.intend(
        session, kind=NotifyKind.APPLICATION_DECIDED, recipients=[application.applicant_user_id], now=now,
        params={"game_id": game.game_id, "game_name": game.game_name,
                "application_id": application.application_id, "decision": application.status},
    )


async def _application_to_decide(session: AsyncSession, game_id: uuid.UUID, application_id: uuid.UUID,
                                 caller: uuid.UUID) -> tuple[Row, Row]:
    game = await locked(session, game_id)
    if game.owner_user_id != caller:
        raise PermissionDenied("only the game's owner can decide applications")
    application = await repo.get_application(session, application_id, for_update=True)
    if application is None or application.game_id != game_id or application.status == ApplicationStatus.WITHDRAWN:
        raise NotFound("application not found")
    if application.status != ApplicationStatus.PENDING:
        raise Conflict(f"the application is already {application.status}")
    return game, application


async def approve(deps: Deps, *, user_id: str, game_id: str, application_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    parsed_game = validation.parse_uuid(game_id, "game_id")
    parsed = validation.parse_uuid(application_id, "application_id")
    found = await repo.read_application(deps.reads, parsed)
    if found is None or found.game_id != parsed_game:
        raise NotFound("application not found")
    allowance = await deps.accounts.allowance(str(found.applicant_user_id))
    async with transaction(deps.sessions) as session:
        game, application = await _application_to_decide(session, parsed_game, parsed, caller)
        _enrolling(game, now)
        await _seat(session, game, Seat(application.applicant_user_id, application.race_name,
                                        application.canonical_key), allowance, now)
        decided = await repo.decide_application(session, parsed, status=ApplicationStatus.APPROVED, now=now,
                                                by=Actor.user(caller).label)
        await _tell_decided(session, game, decided, now)
        return decided


async def reject(deps: Deps, *, user_id: str, game_id: str, application_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    parsed_game = validation.parse_uuid(game_id, "game_id")
    parsed = validation.parse_uuid(application_id, "application_id")
    async with transaction(deps.sessions) as session:
        game, application = await _application_to_decide(session, parsed_game, parsed, caller)
        decided = await repo.decide_application(session, parsed, status=ApplicationStatus.REJECTED, now=now,
                                                by=Actor.user(caller).label)
        await race_names.release_for_game(session, game_id=parsed_game, user_id=application.applicant_user_id,
                                          canonical_key=application.canonical_key)
        await _tell_decided(session, game, decided, now)
        return decided


async def my_applications(deps: Deps, *, user_id: str) -> list[Row]:
    user = validation.parse_uuid(user_id, "user_id")
    return await repo.applications_of(deps.reads, user)


# ---- invites ----


def invite_status(invite: Row, now: datetime) -> str:
    """A pending invite past its expires_at reads as expired (nothing has to run when it expires)."""
    if invite.status == InviteStatus.PENDING and invite.expires_at <= now:
        return InviteStatus.EXPIRED
    return invite.status


async def issue(deps: Deps, *, user_id: str, game_id: str, invited_user_id: str | None, race_name: str | None,
                expires_at: datetime | None, now: datetime) -> Row:
    inviter = validation.parse_uuid(user_id, "user_id")
    parsed = validation.parse_uuid(game_id, "game_id")
    invited = validation.parse_uuid(invited_user_id, "invited_user_id") if invited_user_id is not None else None
    if invited == inviter:
        raise InvalidArgument("invited_user_id must be another player")
    if race_name is None:
        raise InvalidArgument("race_name is required: the invite says which race name the invitee plays")
    name, key = _named(race_name)
    expiry = validation.future(expires_at, "expires_at", now) if expires_at is not None else now + DEFAULT_INVITE_TTL
    if expiry > now + MAX_INVITE_TTL:
        raise InvalidArgument(f"expires_at must be within {MAX_INVITE_TTL.days} days")
    allowance = await deps.accounts.allowance(str(inviter))
    if invited is not None:
        await deps.accounts.allowance(str(invited))  # NotFound for an unknown or deleted user
    async with transaction(deps.sessions) as session:
        game = await locked(session, parsed)
        if game.owner_user_id != inviter:
            raise PermissionDenied("only the game's owner can invite")
        if game.status not in EDITABLE:
            raise Conflict(f"the game is not enrolling (it is {game.status})")
        if invited is not None:
            await _may_join(session, game, invited)
            await race_names.ensure_not_taken(session, user_id=invited, name=name, canonical_key=key, now=now)
        await advisory_xact_lock(session, USER_GAMES_LOCK, inviter)
        pending = await repo.pending_invites_issued_by(session, inviter, now)
        if pending >= allowance.max_pending_invites:
            raise Conflict(f"you have {pending} pending invites; the allowance is {allowance.max_pending_invites}")
        invite = await repo.insert_invite(
            session, invite_id=uuid.uuid4(), game_id=parsed, inviter_user_id=inviter, invited_user_id=invited,
            code=None if invited is not None else uuid.uuid4(), race_name=name, canonical_key=key,
            status=InviteStatus.PENDING, created_at=now, expires_at=expiry,
        )
        if invited is not None:
            await notify.intend(
                session, kind=NotifyKind.INVITE_RECEIVED, recipients=[invited], now=now,
                params={"game_id": parsed, "game_name": game.game_name, "invite_id": invite.invite_id,
                        "inviter_user_id": inviter, "race_name": name, "expires_at": expiry},
            )
        return invite


def _still_pending(invite: Row, now: datetime) -> None:
    status = invite_status(invite, now)
    if status != InviteStatus.PENDING:
        raise Conflict(f"the invite is {status}")


async def redeem(deps: Deps, *, user_id: str, game_id: str, invite_id: str, now: datetime) -> Row:
    """Redeem by the invite's id (the invited user) or, for a code-based invite, by its code."""
    caller = validation.parse_uuid(user_id, "user_id")
    parsed_game = validation.parse_uuid(game_id, "game_id")
    key = validation.parse_uuid(invite_id, "invite_id")
    allowance = await deps.accounts.allowance(str(caller))
    async with transaction(deps.sessions) as session:
        game = await locked(session, parsed_game)
        invite = await repo.find_redeemable(session, parsed_game, key, caller, for_update=True)
        if invite is None:
            raise NotFound("invite not found")
        _still_pending(invite, now)
        if game.status not in ENROLLING:
            raise Conflict(f"the game is not enrolling (it is {game.status})")
        await _seat(session, game, Seat(caller, invite.race_name, invite.canonical_key), allowance, now)
        return await repo.set_invite(session, invite.invite_id, status=InviteStatus.REDEEMED, decided_at=now,
                                     redeemed_by_user_id=caller)


async def decline(deps: Deps, *, user_id: str, game_id: str, invite_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    async with transaction(deps.sessions) as session:
        invite = await _invite_for_update(session, game_id, invite_id)
        if invite.invited_user_id != caller:
            raise PermissionDenied("only the invited player can decline the invite")
        _still_pending(invite, now)
        return await repo.set_invite(session, invite.invite_id, status=InviteStatus.DECLINED, decided_at=now)


async def revoke(deps: Deps, *, user_id: str, game_id: str, invite_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    async with transaction(deps.sessions) as session:
        invite = await _invite_for_update(session, game_id, invite_id)
        if invite.inviter_user_id != caller:
            raise PermissionDenied("only the player who issued the invite can revoke it")
        _still_pending(invite, now)
        return await repo.set_invite(session, invite.invite_id, status=InviteStatus.REVOKED, decided_at=now)


async def _invite_for_update(session: AsyncSession, game_id: str, invite_id: str) -> Row:
    parsed_game = validation.parse_uuid(game_id, "game_id")
    invite = await repo.get_invite(session, validation.parse_uuid(invite_id, "invite_id"), for_update=True)
    if invite is None or invite.game_id != parsed_game:
        raise NotFound("invite not found")
    return invite


async def my_invites(deps: Deps, *, user_id: str) -> list[Row]:
    user = validation.parse_uuid(user_id, "user_id")
    return await repo.invites_for(deps.reads, user)


# ---- memberships ----


async def memberships(deps: Deps, *, game_id: str) -> list[Row]:
    parsed = validation.parse_uuid(game_id, "game_id")
    rows = await repo.memberships_of_game(deps.reads, parsed)
    if not rows and await games_repo.read(deps.reads, parsed) is None:
        raise NotFound("game not found")
    return rows


async def active_member(deps: Deps, *, game_id: str, user_id: str) -> Row:
    """The user's active membership of the game (runtime's engine proxy asks); NotFound for anyone else."""
    game, user = validation.parse_uuid(game_id, "game_id"), validation.parse_uuid(user_id, "user_id")
    membership = await repo.active_membership(deps.reads, game, user)
    if membership is None:
        raise NotFound("no active membership of this user in this game")
    return membership


async def remove(deps: Deps, *, user_id: str, game_id: str, membership_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    return await _end(deps, game_id, membership_id, MembershipStatus.REMOVED, Actor.user(caller), None, now,
                      allowed=lambda game, member: caller in (game.owner_user_id, member.user_id))


async def block(deps: Deps, *, user_id: str, game_id: str, membership_id: str, now: datetime) -> Row:
    caller = validation.parse_uuid(user_id, "user_id")
    return await _end(deps, game_id, membership_id, MembershipStatus.BLOCKED, Actor.user(caller), None, now,
                      allowed=lambda game, member: caller == game.owner_user_id)


async def ban(deps: Deps, *, admin_username: str, game_id: str, user_id: str, reason: str, now: datetime) -> Row:
    member = validation.parse_uuid(user_id, "user_id")
    parsed_game = validation.parse_uuid(game_id, "game_id")
    why = validation.reason(reason)
    async with transaction(deps.sessions) as session:
        game = await locked(session, parsed_game)
        membership = await repo.latest_membership(session, parsed_game, member)
        if membership is None:
            raise NotFound("the player has no membership in this game")
        return await _finish_membership(session, game, membership, MembershipStatus.BLOCKED,
                                        Actor.admin(admin_username), why, now)


async def _end(deps: Deps, game_id: str, membership_id: str, to: MembershipStatus, actor: Actor,
               reason: str | None, now: datetime, *, allowed) -> Row:
    parsed_game = validation.parse_uuid(game_id, "game_id")
    parsed = validation.parse_uuid(membership_id, "membership_id")
    async with transaction(deps.sessions) as session:
        game = await locked(session, parsed_game)
        membership = await repo.get_membership(session, parsed)
        if membership is None or membership.game_id != parsed_game:
            raise NotFound("membership not found")
        if not allowed(game, membership):
            raise PermissionDenied(
                "only the game's owner can block" if to == MembershipStatus.BLOCKED
                else "only the game's owner or the member can remove a membership"
            )
        return await _finish_membership(session, game, membership, to, actor, reason, now)


async def _finish_membership(session: AsyncSession, game: Row, membership: Row, to: MembershipStatus,
                             actor: Actor, reason: str | None, now: datetime) -> Row:
    if game.status in TERMINAL:
        raise Conflict(f"the game is {game.status}; its memberships no longer change")
    if membership.status == to or membership.status == MembershipStatus.BLOCKED:
        raise Conflict(f"the membership is already {membership.status}")
    if membership.status == MembershipStatus.REMOVED and to == MembershipStatus.REMOVED:
        raise Conflict("the membership is already removed")
    ended = await repo.end_membership(session, membership.membership_id, status=to, now=now, by=actor.label,
                                      reason=reason)
    if game.status in (GameStatus.DRAFT, *ENROLLING):
        # Before the start the seat and the name go back; afterwards the name stays with the game.
        await race_names.release_for_game(session, game_id=game.game_id, user_id=membership.user_id,
                                          canonical_key=membership.canonical_key)
    left_on_own = actor.kind == "user" and actor.id == str(membership.user_id)
    recipient = game.owner_user_id if left_on_own else membership.user_id
    await notify.intend(
        session, kind=NotifyKind.MEMBERSHIP_BLOCKED if to == MembershipStatus.BLOCKED
        else NotifyKind.MEMBERSHIP_REMOVED, recipients=[recipient], now=now,
        params={"game_id": game.game_id, "game_name": game.game_name, "membership_id": membership.membership_id,
                "user_id": membership.user_id, "race_name": membership.race_name,
                "by": "self" if left_on_own else actor.kind, "reason": reason},
    )
    return ended
