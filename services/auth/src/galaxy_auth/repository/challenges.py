"""Statements on auth.login_challenges (and the rows written with a challenge).

The sign-in hot path is one prepared statement per step, in autocommit
(`galaxy_kit.db.Reads`), each atomic on its own:
- `issue`: the rate limit, the challenge and its leased queue row, in one statement;
- `read`: the challenge;
- `record_failed_attempt`: a wrong code counted on a still open challenge;
- `consume_into_session`: the challenge consumed and its device session created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from galaxy_kit.db import Query, Reads
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import login_challenges, login_code_requests


@dataclass(frozen=True)
class ChallengeRow:
    challenge_id: uuid.UUID
    email: str
    email_key: str
    code_hash: bytes
    locale: str
    created_at: datetime
    expires_at: datetime
    failed_attempts: int
    consumed_at: datetime | None
    expired: bool


# The rate limit's row is locked by INSERT … ON CONFLICT DO UPDATE, whose WHERE is evaluated on the
# row's latest committed version: concurrent requests for one address queue on it and each sees the
# others' requests, on every replica. When the address is over its limit the row is left as it is and
# nothing else is written. The queue row is born leased to the caller, which hands the code to mail
# at once (no claim round trip); if it dies first, the lease runs out and any worker sends it.
_ISSUE = Query.compile(sa.text("""
WITH request AS (
    INSERT INTO auth.login_code_requests AS r (email_key, requested_at, last_requested_at)
    VALUES (CAST(:email_key AS text), ARRAY[now()], now())
    ON CONFLICT (email_key) DO UPDATE
        SET requested_at = ARRAY(
                SELECT t FROM unnest(r.requested_at) AS t
                WHERE t > now() - CAST(:window AS interval) ORDER BY t
            ) || now(),
            last_requested_at = now()
        WHERE (
            SELECT count(*) FROM unnest(r.requested_at) AS t WHERE t > now() - CAST(:window AS interval)
        ) < CAST(:rate_limit AS integer)
    RETURNING 1
), challenge AS (
    INSERT INTO auth.login_challenges (challenge_id, email, email_key, code_hash, locale, expires_at)
    SELECT CAST(:challenge_id AS uuid), CAST(:email AS text), CAST(:email_key AS text),
           CAST(:code_hash AS bytea), CAST(:locale AS text), now() + CAST(:ttl AS interval)
    FROM request
    RETURNING challenge_id
)
INSERT INTO auth.login_code_mail (challenge_id, recipient, locale, sealed_code, attempts, next_attempt_at)
SELECT challenge_id, CAST(:email AS text), CAST(:locale AS text), CAST(:sealed_code AS bytea), 1,
       now() + CAST(:lease AS interval)
FROM challenge
RETURNING challenge_id
"""))


async def issue(
    reads: Reads,
    *,
    challenge_id: uuid.UUID,
    email: str,
    email_key: str,
    code_hash: bytes,
    locale: str,
    ttl: timedelta,
    sealed_code: bytes,
    lease: timedelta,
    rate_limit: int,
    window: timedelta,
) -> bool:
    """Count the request against the address's limit and, under it, write the challenge and its
    code's queue row (leased to the caller for `lease`). False, writing nothing, over the limit."""
    rows = await reads.write(
        _ISSUE, challenge_id=challenge_id, email=email, email_key=email_key, code_hash=code_hash,
        locale=locale, ttl=ttl, sealed_code=sealed_code, lease=lease, rate_limit=rate_limit, window=window,
    )
    return bool(rows)


_READ = Query.compile(
    sa.select(
        *(login_challenges.c[name] for name in list(ChallengeRow.__dataclass_fields__)[:-1]),
        (login_challenges.c.expires_at <= sa.func.now()).label("expired"),
    ).where(login_challenges.c.challenge_id == sa.bindparam("challenge_id"))
)


async def read(reads: Reads, challenge_id: uuid.UUID) -> ChallengeRow | None:
    record = await reads.fetchrow(_READ, challenge_id=challenge_id)
    return None if record is None else ChallengeRow(*record)


_RECORD_FAILED_ATTEMPT = Query.compile(
    sa.update(login_challenges)
    .where(login_challenges.c.challenge_id == sa.bindparam("challenge_id"))
    .where(login_challenges.c.consumed_at.is_(None))
    .where(login_challenges.c.expires_at > sa.func.now())
    .where(login_challenges.c.failed_attempts < sa.bindparam("max_attempts", type_=sa.Integer))
    .values(failed_attempts=login_challenges.c.failed_attempts + 1)
    .returning(login_challenges.c.failed_attempts)
)


async def record_failed_attempt(reads: Reads, challenge_id: uuid.UUID, *, max_attempts: int) -> int | None:
    """Count a wrong code on a still open challenge; its failed attempts now, None when it is closed."""
    rows = await reads.write(_RECORD_FAILED_ATTEMPT, challenge_id=challenge_id, max_attempts=max_attempts)
    return rows[0][0] if rows else None


# UPDATE re-checks its WHERE on the row's latest version after waiting for its lock: of concurrent
# confirmations of one challenge exactly one consumes it, and only that one creates a session (the
# session's unique challenge_id holds the same line should anything else ever write sessions).
_CONSUME_INTO_SESSION = Query.compile(sa.text("""
WITH consumed AS (
    UPDATE auth.login_challenges SET consumed_at = now()
    WHERE challenge_id = CAST(:challenge_id AS uuid)
      AND consumed_at IS NULL AND expires_at > now() AND failed_attempts < CAST(:max_attempts AS integer)
    RETURNING challenge_id
)
INSERT INTO auth.device_sessions
    (device_session_id, user_id, status, client_public_key, time_zone, challenge_id)
SELECT CAST(:device_session_id AS uuid), CAST(:user_id AS uuid), 'active', CAST(:client_public_key AS text),
       CAST(:time_zone AS text), challenge_id
FROM consumed
RETURNING device_session_id
"""))


async def consume_into_session(
    reads: Reads,
    challenge_id: uuid.UUID,
    *,
    max_attempts: int,
    device_session_id: uuid.UUID,
    user_id: uuid.UUID,
    client_public_key: str,
    time_zone: str,
) -> bool:
    """Consume the still open challenge and create its active device session; False when it was closed."""
    rows = await reads.write(
        _CONSUME_INTO_SESSION, challenge_id=challenge_id, max_attempts=max_attempts,
        device_session_id=device_session_id, user_id=user_id, client_public_key=client_public_key,
        time_zone=time_zone,
    )
    return bool(rows)


async def delete_stale(session: AsyncSession, *, older_than: timedelta) -> int:
    """Drop challenges that expired more than `older_than` ago (they no longer count anywhere)."""
    result = await session.execute(
        sa.delete(login_challenges).where(login_challenges.c.expires_at < sa.func.now() - older_than)
    )
    return result.rowcount


async def delete_stale_requests(session: AsyncSession, *, older_than: timedelta) -> int:
    """Drop the rate-limit rows of addresses with no request inside the window (they limit nothing)."""
    result = await session.execute(
        sa.delete(login_code_requests).where(login_code_requests.c.last_requested_at < sa.func.now() - older_than)
    )
    return result.rowcount
