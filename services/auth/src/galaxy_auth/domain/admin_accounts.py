"""Administrator accounts: the first administrator, their management, and the Basic-auth check behind every admin route.

bcrypt at cost 12 takes about a quarter second, far too slow to pay on every
admin request. A successful check is remembered as a keyed digest of
(username, stored bcrypt hash, password) in process memory; the stored hash is
re-read from the database on every check, so a password reset (new hash)
misses the cache on every replica at once, and a disabled account is refused
before the cache is consulted. Neither the password nor the digest key leaves
the process.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import bcrypt
from galaxy_kit.db import transaction
from galaxy_kit.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, Unauthenticated
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.repository import admin_accounts as repo

log = get_logger(__name__)

#: How stale `last_used_at` may get before a check writes it again (one write a minute, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: Verified credentials remembered per process.
CREDENTIAL_CACHE_SIZE = 1024
REJECTED = "invalid administrator credentials"
ADMIN_NOT_FOUND = "admin account not found"

#: Usernames: 3 to 64 characters, lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
#: Passwords: at least 12 characters ...
MIN_PASSWORD_CHARS = 12
#: ... and at most 72 bytes in UTF-8 (bcrypt reads no further), no control characters, not the username.
MAX_PASSWORD_BYTES = 72

# Compared against when the username is unknown, so that an unknown name costs
# the same bcrypt time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = bcrypt.hashpw(b"galaxy-no-such-admin", bcrypt.gensalt(rounds=4))


async def hash_password(password: str, *, rounds: int) -> str:
    digest = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(rounds=rounds))
    return digest.decode()


async def _bcrypt_matches(password: str, password_hash: str) -> bool:
    try:
        return await asyncio.to_thread(bcrypt.checkpw, password.encode(), password_hash.encode())
    except ValueError:  # longer than bcrypt's 72 bytes: no stored password can match it
        return False


def _storable(text: str) -> bool:
    return "\x00" not in text


def validate_username(username: str) -> None:
    if not USERNAME_PATTERN.match(username):
        raise InvalidArgument(
            "username must be 3 to 64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def validate_password(password: str, *, username: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidArgument(f"password must be at least {MIN_PASSWORD_CHARS} characters long")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidArgument(f"password must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise InvalidArgument("password must not contain control characters")
    if password.strip().lower() == username.lower():
        raise InvalidArgument("password must not be the username")


async def bootstrap_first_admin(
    sessions: async_sessionmaker[AsyncSession], *, username: str, password: str, rounds: int
) -> bool:
    """Create the first administrator from configuration when none exists. True when created."""
    if not username or not password:
        return False
    password_hash = await hash_password(password, rounds=rounds)
    async with transaction(sessions) as session:
        await repo.lock_table_for_bootstrap(session)
        if await repo.any_exists(session):
            return False
        created = await repo.insert_if_absent(session, username=username, password_hash=password_hash)
    if created:
        log.info("first_admin_created", username=username)
    return created


class AdminCredentialChecker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, None] = OrderedDict()

    def _digest(self, username: str, password_hash: str, password: str) -> bytes:
        material = b"\0".join([username.encode(), password_hash.encode(), password.encode()])
        return hmac.new(self._key, material, hashlib.sha256).digest()

    def _remember(self, digest: bytes) -> None:
        self._verified[digest] = None
        self._verified.move_to_end(digest)
        while len(self._verified) > CREDENTIAL_CACHE_SIZE:
            self._verified.popitem(last=False)

    def forget_all(self) -> None:
        """Drop every remembered credential (called on disable and reset in this process)."""
        self._verified.clear()

    async def check(self, username: str, password: str) -> str:
        """The administrator's username when the credentials are valid; Unauthenticated otherwise."""
        account = None
        if _storable(username):  # PostgreSQL text cannot hold NUL: no stored name contains one
            async with transaction(self._sessions) as session:
                account = await repo.get(session, username)
        if account is None:
            await _bcrypt_matches(password, _DUMMY_HASH.decode())
            raise Unauthenticated(REJECTED)
        digest = self._digest(account.username, account.password_hash, password)
        if digest not in self._verified:
            if not await _bcrypt_matches(password, account.password_hash):
                raise Unauthenticated(REJECTED)
            self._remember(digest)
        if account.status != "active":
            raise Unauthenticated(REJECTED)
        now = datetime.now(UTC)
        if account.last_used_at is None or account.last_used_at < now - LAST_USED_RESOLUTION:
            async with transaction(self._sessions) as session:
                await repo.touch_last_used(session, account.username, older_than=now - LAST_USED_RESOLUTION)
        return account.username


# ---- Management (the /api/v1/admin/admin-accounts* operations) ----


async def list_admin_accounts(*, sessions: async_sessionmaker[AsyncSession]) -> list[repo.AdminAccountRow]:
    async with transaction(sessions) as session:
        return await repo.list_all(session)


async def get_admin_account(*, sessions: async_sessionmaker[AsyncSession], username: str) -> repo.AdminAccountRow:
    if not _storable(username):
        raise NotFound(ADMIN_NOT_FOUND)
    async with transaction(sessions) as session:
        account = await repo.get(session, username)
    if account is None:
        raise NotFound(ADMIN_NOT_FOUND)
    return account


async def create_admin_account(
    *, sessions: async_sessionmaker[AsyncSession], username: str, password: str, rounds: int, actor: str
) -> repo.AdminAccountRow:
    validate_username(username)
    validate_password(password, username=username)
    password_hash = await hash_password(password, rounds=rounds)  # outside the transaction: it is slow
    async with transaction(sessions) as session:
        account = await repo.create(session, username=username, password_hash=password_hash)
    if account is None:
        raise AlreadyExists("an admin account with this username already exists")
    log.info("admin_account_created", username=username, actor=actor)
    return account


async def disable_admin_account(
    *, sessions: async_sessionmaker[AsyncSession], checker: AdminCredentialChecker, username: str, actor: str
) -> repo.AdminAccountRow:
    """Disable an account (already disabled: unchanged). The last active administrator cannot be disabled."""
    if not _storable(username):
        raise NotFound(ADMIN_NOT_FOUND)
    async with transaction(sessions) as session:
        active = await repo.count_active_for_update(session)
        account = await repo.get(session, username, for_update=True)
        if account is None:
            raise NotFound(ADMIN_NOT_FOUND)
        if account.status == "active" and active <= 1:
            raise Conflict("the last active admin account cannot be disabled")
        account = await repo.set_disabled(session, username, disabled=True)
    checker.forget_all()
    log.info("admin_account_disabled", username=username, actor=actor)
    return account


async def enable_admin_account(
    *, sessions: async_sessionmaker[AsyncSession], username: str, actor: str
) -> repo.AdminAccountRow:
    if not _storable(username):
        raise NotFound(ADMIN_NOT_FOUND)
    async with transaction(sessions) as session:
        if await repo.get(session, username, for_update=True) is None:
            raise NotFound(ADMIN_NOT_FOUND)
        account = await repo.set_disabled(session, username, disabled=False)
    log.info("admin_account_enabled", username=username, actor=actor)
    return account


async def reset_admin_password(
    *,
    sessions: async_sessionmaker[AsyncSession],
    checker: AdminCredentialChecker,
    username: str,
    password: str,
    rounds: int,
    actor: str,
) -> repo.AdminAccountRow:
    if not _storable(username):
        raise NotFound(ADMIN_NOT_FOUND)
    validate_password(password, username=username)
    password_hash = await hash_password(password, rounds=rounds)  # outside the transaction: it is slow
    async with transaction(sessions) as session:
        if await repo.get(session, username, for_update=True) is None:
            raise NotFound(ADMIN_NOT_FOUND)
        account = await repo.set_password_hash(session, username, password_hash=password_hash)
    checker.forget_all()
    log.info("admin_account_password_reset", username=username, actor=actor)
    return account
