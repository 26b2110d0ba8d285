"""Counting sightings of users' client addresses, and telling account where a user really is.

One batch is one transaction: the batch is resolved and aggregated in memory to one delta per
(user, country), the users' rows are locked in id order (the lock a deletion takes too), the
deltas of live users go in with one upsert, and the declared-country rule is evaluated for the
users the batch touched. Account is called after the commit, never inside the transaction; a call
that fails is retried naturally by the user's next batch (the rule is evaluated again).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from galaxy_kit.db import transaction
from galaxy_kit.errors import DomainError, InvalidArgument
from galaxy_kit.logging import get_logger
from galaxy_kit.validation import parse_uuid
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_geo.domain.ports import AccountDirectory
from galaxy_geo.domain.resolution import countries, parse_address
from galaxy_geo.repository import counters as repo

log = get_logger(__name__)

#: Calls to account in flight at once after one batch.
_ACCOUNT_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Sighting:
    user_id: str
    client_address: str
    observed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeclaredCountryRule:
    """A user is "seen mostly from" a country when, counting only countries seen within `window`,
    there are at least `min_observations` sightings and that country has at least `min_share`."""

    min_observations: int
    min_share: float
    window: timedelta

    def dominant(self, counts: dict[str, int]) -> str | None:
        total = sum(counts.values())
        if total < self.min_observations or not counts:
            return None
        country, top = max(counts.items(), key=lambda item: (item[1], item[0]))
        return country if top >= self.min_share * total else None


@dataclass(frozen=True, slots=True)
class Outcome:
    counted: int
    unresolved: int
    rejected: int


class Counting:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        accounts: AccountDirectory,
        rule: DeclaredCountryRule,
        *,
        max_batch: int,
        clock=lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._accounts = accounts
        self._rule = rule
        self._max_batch = max_batch
        self._clock = clock

    async def observe(self, sightings: Sequence[Sighting]) -> Outcome:
        if len(sightings) > self._max_batch:
            raise InvalidArgument(f"at most {self._max_batch} observations per call")
        now = self._clock()
        parsed: list[tuple[uuid.UUID, str, datetime]] = []
        rejected = 0
        for sighting in sightings:
            user_id = parse_uuid(sighting.user_id)
            address = parse_address(sighting.client_address)
            if user_id is None or address is None:
                rejected += 1
                continue
            # A clock in the future (a skewed edge) must not make a counter look fresher than now.
            seen = min(sighting.observed_at or now, now)
            parsed.append((user_id, address, seen))
        deltas: dict[tuple[uuid.UUID, str], list] = {}
        unresolved = 0
        for (user_id, _, seen), country in zip(
            parsed, countries([a for _, a, _ in parsed]), strict=True
        ):
            if country is None:
                unresolved += 1
                continue
            delta = deltas.get((user_id, country))
            if delta is None:
                deltas[(user_id, country)] = [1, seen, seen]
            else:
                delta[0] += 1
                delta[1] = min(delta[1], seen)
                delta[2] = max(delta[2], seen)
        if not deltas:
            return Outcome(counted=0, unresolved=unresolved, rejected=rejected)
        async with transaction(self._sessions) as session:
            live = await repo.lock_live_users(session, [user for user, _ in deltas])
            counted = [
                repo.CountDelta(user, country, count, first, last)
                for (user, country), (count, first, last) in deltas.items()
                if user in live
            ]
            await repo.add_counts(session, counted)
            to_report = await self._to_report(session, live, now)
        total = sum(d.count for d in counted)
        rejected += sum(d[0] for (user, _), d in deltas.items() if user not in live)
        if to_report:
            await self._report(to_report)
        return Outcome(counted=total, unresolved=unresolved, rejected=rejected)

    async def _to_report(
        self, session: AsyncSession, user_ids: set[uuid.UUID], now: datetime
    ) -> dict[uuid.UUID, str]:
        if not user_ids:
            return {}
        found = await repo.recent_counts(session, user_ids, since=now - self._rule.window)
        report = {}
        for user_id, (reported, counts) in found.items():
            dominant = self._rule.dominant(counts)
            if dominant is not None and dominant != reported:
                report[user_id] = dominant
        return report

    async def _report(self, to_report: dict[uuid.UUID, str]) -> None:
        gate = asyncio.Semaphore(_ACCOUNT_CONCURRENCY)

        async def one(user_id: uuid.UUID, country: str) -> None:
            async with gate:
                try:
                    known = await self._accounts.sync_declared_country(str(user_id), country)
                except DomainError as error:
                    log.warning(
                        "declared_country_not_synced",
                        user_id=str(user_id),
                        country=country,
                        reason=str(error),
                    )
                    return
            if not known:
                log.info("declared_country_user_gone", user_id=str(user_id), country=country)
                return
            async with transaction(self._sessions) as session:
                await repo.mark_reported(session, user_id, country, self._clock())
            log.info("declared_country_synced", user_id=str(user_id), country=country)

        await asyncio.gather(*(one(user, country) for user, country in to_report.items()))
