"""The admin's view of a user's counters."""

from __future__ import annotations

from dataclasses import dataclass

from galaxy_kit.db import Reads
from galaxy_kit.errors import InvalidArgument, NotFound
from galaxy_kit.validation import parse_uuid

from galaxy_geo.domain.ports import ACTIVE, BLOCKED, AccountDirectory
from galaxy_geo.repository import counters as repo

UNKNOWN_USER = "no such user"


@dataclass(frozen=True, slots=True)
class UserCountries:
    user_id: str
    counters: list[repo.Counter]


async def list_countries(
    *, reads: Reads, accounts: AccountDirectory, user_id: str
) -> UserCountries:
    """The user's counters, most seen first.

    404 when geo forgot the user (the account was deleted), or when geo has no counter and
    account does not know the user as active or blocked. A known user never seen from any
    country has an empty list. Account is asked only when geo has nothing.
    """
    parsed = parse_uuid(user_id)
    if parsed is None:
        raise InvalidArgument("user_id must be a UUID")
    rows = await reads.fetch(repo.LIST_COUNTERS, user_id=parsed)
    if rows and rows[0]["forgotten_at"] is not None:
        raise NotFound(UNKNOWN_USER)
    counters = [
        repo.Counter(r["country"], r["count"], r["last_seen_at"])
        for r in rows
        if r["country"] is not None
    ]
    if not counters and await accounts.identity(str(parsed)) not in (ACTIVE, BLOCKED):
        raise NotFound(UNKNOWN_USER)
    return UserCountries(str(parsed), counters)
