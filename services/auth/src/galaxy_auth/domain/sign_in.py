"""Sign-in by e-mail code: issue a challenge (code by mail), confirm it (a device session).

Rules (docs/auth.md):
- a code is six digits from `secrets`, stored only as an HMAC (domain/codes.py),
  valid for `ttl`, usable once;
- a challenge dies on its `max_attempts`-th wrong code; the right code then fails too;
- an address gets at most `rate_limit` codes per `rate_window` (INVALID_ARGUMENT beyond);
- the answer to a code request has the same shape, and costs the same work,
  whether or not an account exists for the address; a permanently blocked
  address is refused;
- two confirmations racing with the same code make exactly one session (the
  last step locks the challenge row, re-checks it and consumes it; the session
  row refers to its challenge uniquely);
- no call to another service happens inside a transaction: the code goes out
  through the login-mail queue (domain/login_mail.py) after the commit, and the
  account is ensured between two statements.

Each database step is one prepared statement in autocommit (repository/challenges.py):
asking for a code is one round trip (limit, challenge and queued code together),
confirming is a read and one write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from galaxy_kit.db import Reads
from galaxy_kit.errors import InvalidArgument
from galaxy_kit.logging import get_logger
from galaxy_kit.validation import choose_locale

from galaxy_auth.domain import codes
from galaxy_auth.domain.login_mail import LoginMailDispatcher
from galaxy_auth.domain.ports import AccountDirectory
from galaxy_auth.domain.validation import parse_email, parse_public_key, parse_time_zone, parse_uuid
from galaxy_auth.repository import challenges as challenge_repo
from galaxy_auth.repository.login_mail import LoginMailRow
from galaxy_auth.settings import AuthSettings

log = get_logger(__name__)

BLOCKED = "this e-mail address cannot be used to sign in"
RATE_LIMITED = "too many codes requested for this address; wait a few minutes before asking again"
CHALLENGE_CLOSED = "this code has expired or can no longer be used; request a new one"
WRONG_CODE = "wrong code"
WRONG_CODE_LAST = "wrong code; this code can no longer be used, request a new one"


@dataclass(frozen=True)
class SignInPolicy:
    code_key: bytes
    seal_key: bytes
    ttl: timedelta
    max_attempts: int
    rate_limit: int
    rate_window: timedelta
    locales: list[str]

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> SignInPolicy:
        return cls(
            code_key=settings.code_key(),
            seal_key=settings.code_seal_key(),
            ttl=timedelta(seconds=settings.auth_code_ttl_seconds),
            max_attempts=settings.auth_code_max_attempts,
            rate_limit=settings.auth_code_rate_limit,
            rate_window=timedelta(seconds=settings.auth_code_rate_window_seconds),
            locales=settings.mail_locales(),
        )


async def send_email_code(
    *,
    reads: Reads,
    policy: SignInPolicy,
    accounts: AccountDirectory,
    login_mail: LoginMailDispatcher,
    email: str,
    locale: str | None,
    accept_language: str | None,
) -> uuid.UUID:
    """Issue a challenge and queue its code for mail; the challenge id."""
    address = parse_email(email)
    # Only locales mail ships the template in (GALAXY_AUTH_MAIL_LOCALES; the first is the fallback).
    chosen_locale = choose_locale(
        explicit=locale, accept_language=accept_language, supported=policy.locales
    )
    if await accounts.is_permanently_blocked(address.address):
        raise InvalidArgument(BLOCKED)
    challenge_id = uuid.uuid4()
    code = codes.new_code()
    sealed_code = codes.seal(policy.seal_key, challenge_id, code)
    # One statement: the challenge exists if and only if its code will be mailed.
    issued = await challenge_repo.issue(
        reads,
        challenge_id=challenge_id,
        email=address.address,
        email_key=address.key,
        code_hash=codes.digest(policy.code_key, challenge_id, code),
        locale=chosen_locale,
        ttl=policy.ttl,
        sealed_code=sealed_code,
        lease=login_mail.lease,
        rate_limit=policy.rate_limit,
        window=policy.rate_window,
    )
    if not issued:
        raise InvalidArgument(RATE_LIMITED)
    login_mail.dispatch_soon(
        LoginMailRow(challenge_id=challenge_id, recipient=address.address, locale=chosen_locale,
                     sealed_code=sealed_code, attempts=1)
    )
    log.debug("login_code_issued", challenge_id=str(challenge_id), locale=chosen_locale)
    return challenge_id


def _closed(challenge: challenge_repo.ChallengeRow | None, policy: SignInPolicy) -> bool:
    return (
        challenge is None
        or challenge.expired
        or challenge.consumed_at is not None
        or challenge.failed_attempts >= policy.max_attempts
    )


async def confirm_email_code(
    *,
    reads: Reads,
    policy: SignInPolicy,
    accounts: AccountDirectory,
    challenge_id: str,
    code: str,
    client_public_key: str,
    time_zone: str,
) -> uuid.UUID:
    """Check the code and open a device session bound to the public key; the session id.

    Three steps, none holding a lock across a call to account: read and verify
    (a wrong code is counted atomically); ensure the account; then consume the
    challenge, if still open, and create the session in one statement.
    """
    public_key = parse_public_key(client_public_key)
    zone = parse_time_zone(time_zone)
    parsed_id = parse_uuid(challenge_id)
    if parsed_id is None:
        raise InvalidArgument(CHALLENGE_CLOSED)
    challenge = await challenge_repo.read(reads, parsed_id)
    if _closed(challenge, policy):
        raise InvalidArgument(CHALLENGE_CLOSED)
    if not codes.matches(policy.code_key, parsed_id, challenge.code_hash, code):
        attempts = await challenge_repo.record_failed_attempt(reads, parsed_id, max_attempts=policy.max_attempts)
        if attempts is None:  # closed by a concurrent confirmation meanwhile
            raise InvalidArgument(CHALLENGE_CLOSED)
        log.info("login_code_rejected", challenge_id=str(parsed_id))
        raise InvalidArgument(WRONG_CODE_LAST if attempts >= policy.max_attempts else WRONG_CODE)
    user_id = await _user_for_sign_in(
        accounts, email=challenge.email, preferred_language=challenge.locale, time_zone=zone,
    )
    device_session_id = uuid.uuid4()
    # Concurrent confirmations of this challenge: the first consumes it, the others find it closed.
    if not await challenge_repo.consume_into_session(
        reads, parsed_id, max_attempts=policy.max_attempts, device_session_id=device_session_id,
        user_id=user_id, client_public_key=public_key, time_zone=zone,
    ):
        raise InvalidArgument(CHALLENGE_CLOSED)
    log.info("device_session_created", device_session_id=str(device_session_id), user_id=str(user_id))
    return device_session_id


async def _user_for_sign_in(
    accounts: AccountDirectory,
    *,
    email: str,
    preferred_language: str,
    time_zone: str,
) -> uuid.UUID:
    """The user id account gives the address (created on first sign-in); a blocked address is refused."""
    ensured = await accounts.ensure_by_email(
        email=email, preferred_language=preferred_language, time_zone=time_zone
    )
    if ensured.outcome == "blocked":
        raise InvalidArgument(BLOCKED)
    if ensured.outcome not in ("created", "existing") or parse_uuid(ensured.user_id) is None:
        raise RuntimeError(f"account answered EnsureAccountByEmail with outcome {ensured.outcome!r}")
    return uuid.UUID(ensured.user_id)
