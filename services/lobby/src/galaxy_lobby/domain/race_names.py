"""The race-name directory: one canonical name belongs to one user platform-wide (docs/lobby.md).

Claims of one canonical key are serialised by a transaction-scoped advisory lock on the key, so
two users racing for one name leave exactly one holder: the second sees the first's committed
row once it gets the lock. Lock order everywhere: game row, then user, then name.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from galaxy_kit.db import advisory_xact_lock, transaction
from galaxy_kit.errors import Conflict, NotFound
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain import validation
from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.domain.vocabulary import RaceNameStatus
from galaxy_lobby.repository import race_names as repo

NAME_LOCK = "lobby.race-name"
USER_NAMES_LOCK = "lobby.user-race-names"


def taken(name: str) -> Conflict:
    return Conflict(f"the race name {name!r} is held by another player")


async def claim_for_game(session: AsyncSession, *, user_id: uuid.UUID, name: str, canonical_key: str,
                         game_id: uuid.UUID, now: datetime) -> None:
    """Reserve the name for the user in the game, or Conflict when another user holds it."""
    await advisory_xact_lock(session, NAME_LOCK, canonical_key)
    if await repo.holder_other_than(session, canonical_key, user_id, now):
        raise taken(name)
    await repo.reserve(session, canonical_key=canonical_key, name=name, user_id=user_id, game_id=game_id, now=now)


async def ensure_not_taken(session: AsyncSession, *, user_id: uuid.UUID, name: str, canonical_key: str,
                           now: datetime) -> None:
    """A check without a claim (applications and invites claim at submission or redemption)."""
    if await repo.holder_other_than(session, canonical_key, user_id, now):
        raise taken(name)


async def mine(deps: Deps, *, user_id: str, now: datetime) -> list[Row]:
    user = validation.parse_uuid(user_id, "user_id")
    return await repo.of_user(deps.reads, user, now)


async def register(deps: Deps, *, user_id: str, name: str, now: datetime) -> Row:
    """Promote the caller's pending registration of `name` to registered, within their allowance."""
    user = validation.parse_uuid(user_id, "user_id")
    if not name.strip():
        raise validation.InvalidArgument("name is required")
    canonical_key = validation.canonical_key(validation.race_name(name))
    allowance = await deps.accounts.allowance(str(user))  # before the transaction: no remote call under a lock
    async with transaction(deps.sessions) as session:
        await advisory_xact_lock(session, USER_NAMES_LOCK, user)
        await advisory_xact_lock(session, NAME_LOCK, canonical_key)
        already = await repo.find(session, user, canonical_key, RaceNameStatus.REGISTERED, now)
        if already is not None:
            await repo.drop_pending(session, user, canonical_key)
            return already
        pending = await repo.find(session, user, canonical_key, RaceNameStatus.PENDING_REGISTRATION, now)
        if pending is None:
            raise NotFound("no pending registration of this race name")
        count = await repo.registered_count(session, user)
        if count >= allowance.max_registered_race_names:
            raise Conflict(
                f"you have {count} registered race names; your allowance is "
                f"{allowance.max_registered_race_names}"
            )
        return await repo.promote(session, pending.race_name_id, now)


async def release_for_game(session: AsyncSession, *, game_id: uuid.UUID, user_id: uuid.UUID,
                           canonical_key: str) -> None:
    await repo.release(session, game_id=game_id, user_id=user_id, canonical_key=canonical_key)

