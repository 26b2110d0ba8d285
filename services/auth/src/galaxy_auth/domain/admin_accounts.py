"""Administrator accounts: the first administrator, their management, and the Basic-auth check behind every admin route.

bcrypt at cost 12 takes about a quarter second, far too slow to pay on every
admin request. A successful check is remembered as a keyed digest of
(username, stored bcrypt hash, password) in process memory; the stored hash is
re-read from the database on every check, so a password reset (new hash)
misses the cache on every replica at once, and a disabled account is refused
before the cache is consulted. Neither the password nor the digest key leaves
the process.

Every edge also remembers a verified check briefly (galaxy_edge.admin_cache), so a
change that makes credentials stop working — a disable, a password reset — is
published as `AdminCredentialsChanged` on `galaxy.auth.admins.v1` through auth's
outbox, in the transaction that makes it; every edge drops what it remembers for
that administrator when the event arrives (docs/auth.md, "Administrator credentials").

A check that needs bcrypt (not remembered) is one *attempt* (docs/auth.md,
"Administrator credentials"):
- it is throttled per username and per client address across replicas
  (auth.admin_check_attempts); a throttled attempt answers 401 without bcrypt;
- bcrypt runs on a small dedicated thread pool, so a flood of guesses queues
  there and never starves the default executor or the event loop;
- concurrent checks of the same credentials share one attempt (single flight);
- an unknown username is compared against a dummy hash made once, lazily, at
  the configured cost, so it costs what a wrong password costs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
from galaxy.events.v1.auth_pb2 import AdminCredentialsChanged
from galaxy_kit.db import Reads, transaction
from galaxy_kit.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, Unauthenticated
from galaxy_kit.events import enqueue
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_auth.repository import admin_accounts as repo
from galaxy_auth.repository import admin_throttle as throttle_repo
from galaxy_auth.repository.tables import outbox
from galaxy_auth.settings import AuthSettings

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

#: Topic of AdminCredentialsChanged events (record key: the username), read by every edge.
ADMINS_TOPIC = "galaxy.auth.admins.v1"
PRODUCER = "auth"
DISABLED = "disabled"
PASSWORD_RESET = "password_reset"

#: Longest throttling key stored: longer usernames are stored as their SHA-256.
MAX_THROTTLE_KEY_CHARS = 128


async def hash_password(password: str, *, rounds: int) -> str:
    digest = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(rounds=rounds))
    return digest.decode()


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


class BcryptPool:
    """bcrypt on a dedicated, bounded thread pool, and the dummy hash unknown usernames are checked against."""

    def __init__(self, *, workers: int, rounds: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="admin-bcrypt")
        self._rounds = rounds
        self._dummy: asyncio.Future[str] | None = None

    async def matches(self, password: str, password_hash: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _checkpw, password, password_hash)

    async def dummy_hash(self) -> str:
        """A hash at the configured cost that no password matches; made once, on first need."""
        if self._dummy is None:
            loop = asyncio.get_running_loop()
            unguessable = secrets.token_urlsafe(32).encode()
            self._dummy = loop.run_in_executor(
                self._executor, lambda: bcrypt.hashpw(unguessable, bcrypt.gensalt(rounds=self._rounds)).decode()
            )
        return await asyncio.shield(self._dummy)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _checkpw(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # longer than bcrypt's 72 bytes: no stored password can match it
        return False


@dataclass(frozen=True)
class ThrottlePolicy:
    username_failures: int
    address_failures: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> ThrottlePolicy:
        return cls(
            username_failures=settings.admin_throttle_username_failures,
            address_failures=settings.admin_throttle_address_failures,
            window=timedelta(seconds=settings.admin_throttle_window_seconds),
        )


def _throttle_key(value: str) -> str:
    if _storable(value) and len(value) <= MAX_THROTTLE_KEY_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class AdminThrottle:
    """Failed admin checks per username and per client address, counted in Postgres (exact across replicas).

    An attempt is recorded *before* bcrypt and counted including itself, so N
    concurrent guesses cannot all slip under the limit; it is deleted again when
    the password was right, or when the attempt was refused by the throttle
    itself (a refused attempt does not extend the lock-out).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: ThrottlePolicy) -> None:
        self._sessions = sessions
        self._policy = policy

    async def begin(self, username: str, client_address: str) -> tuple[list, bool]:
        """Record an attempt; (its ids, whether it is over a limit)."""
        keys = [("username", _throttle_key(username))]
        if client_address:  # unknown address (a direct gRPC caller): the username limit still applies
            keys.append(("address", _throttle_key(client_address)))
        async with transaction(self._sessions) as session:
            ids = await throttle_repo.record(session, keys)
        # A second transaction, so the count sees every attempt committed before ours.
        async with transaction(self._sessions) as session:
            counts = await throttle_repo.count_recent(session, keys, window=self._policy.window)
        over = (
            counts.get("username", 0) > self._policy.username_failures
            or counts.get("address", 0) > self._policy.address_failures
        )
        return ids, over

    async def forget(self, attempt_ids: list) -> None:
        async with transaction(self._sessions) as session:
            await throttle_repo.delete(session, attempt_ids)


class AdminCredentialChecker:
    """The Basic-auth check. A repeated valid check is one prepared read (hash and status, no
    transaction) and an in-memory digest lookup: no ORM session, no write (`last_used_at` at most
    once a minute per administrator and process)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        reads: Reads,
        bcrypt_pool: BcryptPool,
        throttle: AdminThrottle,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._reads = reads
        self._bcrypt = bcrypt_pool
        self._throttle = throttle
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._in_flight: dict[bytes, asyncio.Future[bool]] = {}
        #: Usernames whose `last_used_at` write is under way: concurrent checks do not repeat it.
        self._touching: set[str] = set()

    def _digest(self, username: str, password_hash: str, password: str) -> bytes:
        material = b"\0".join(
            [username.encode("utf-8", "surrogatepass"), password_hash.encode(),
             password.encode("utf-8", "surrogatepass")]
        )
        return hmac.new(self._key, material, hashlib.sha256).digest()

    def _remember(self, digest: bytes) -> None:
        self._verified[digest] = None
        self._verified.move_to_end(digest)
        while len(self._verified) > CREDENTIAL_CACHE_SIZE:
            self._verified.popitem(last=False)

    def forget_all(self) -> None:
        """Drop every remembered credential (called on disable and reset in this process)."""
        self._verified.clear()

    async def check(self, username: str, password: str, client_address: str = "") -> str:
        """The administrator's username when the credentials are valid; Unauthenticated otherwise."""
        account = None
        if _storable(username):  # PostgreSQL text cannot hold NUL: no stored name contains one
            account = await repo.read(self._reads, username)
        stored_hash = account.password_hash if account is not None else None
        digest = self._digest(username, stored_hash or "", password)
        if digest not in self._verified:
            # Registered before the first await, so concurrent identical checks join this one.
            attempt = self._in_flight.get(digest)
            if attempt is None:
                attempt = asyncio.ensure_future(
                    self._attempt(digest, username, password, stored_hash, client_address)
                )
                self._in_flight[digest] = attempt
            if not await asyncio.shield(attempt):
                raise Unauthenticated(REJECTED)
        if account is None or account.status != "active":
            raise Unauthenticated(REJECTED)
        now = self._clock()
        stale = account.last_used_at is None or account.last_used_at < now - LAST_USED_RESOLUTION
        if stale and account.username not in self._touching:
            self._touching.add(account.username)
            try:
                async with transaction(self._sessions) as session:
                    await repo.touch_last_used(session, account.username, older_than=now - LAST_USED_RESOLUTION)
            finally:
                self._touching.discard(account.username)
        return account.username

    async def _attempt(
        self, digest: bytes, username: str, password: str, stored_hash: str | None, client_address: str
    ) -> bool:
        """One throttled bcrypt comparison; True only for the right password of an existing account."""
        try:
            matched = await self._throttled_bcrypt(username, password, stored_hash, client_address)
            if matched:
                self._remember(digest)
            return matched
        finally:
            # Both in the same step as the result: a check arriving later finds one or the other.
            self._in_flight.pop(digest, None)

    async def _throttled_bcrypt(
        self, username: str, password: str, stored_hash: str | None, client_address: str
    ) -> bool:
        attempt_ids, throttled = await self._throttle.begin(username, client_address)
        if throttled:
            await self._throttle.forget(attempt_ids)
            log.warning("admin_check_throttled", client_address=client_address or None)
            return False
        # An unknown name pays the same bcrypt as a wrong password: names cannot be probed by timing.
        matched = await self._bcrypt.matches(password, stored_hash or await self._bcrypt.dummy_hash())
        if matched and stored_hash is not None:
            await self._throttle.forget(attempt_ids)
            return True
        return False


# ---- Management (the /api/v1/admin/admin-accounts* operations) ----


async def list_admin_accounts(*, reads: Reads) -> list[repo.AdminAccountRow]:
    return await repo.read_all(reads)


async def get_admin_account(*, reads: Reads, username: str) -> repo.AdminAccountRow:
    if not _storable(username):
        raise NotFound(ADMIN_NOT_FOUND)
    account = await repo.read(reads, username)
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
        was_active = account.status == "active"
        account = await repo.set_disabled(session, username, disabled=True)
        if was_active:
            await publish_credentials_changed(session, account, DISABLED)
    checker.forget_all()
    log.info("admin_account_disabled", username=username, actor=actor)
    return account


async def publish_credentials_changed(session: AsyncSession, account: repo.AdminAccountRow, change: str) -> None:
    """Queue the AdminCredentialsChanged of `change`, in the changing transaction (the outbox):
    the edges stop accepting the credentials they remember for this administrator."""
    event = AdminCredentialsChanged(username=account.username, change=change)
    event.changed_at.FromDatetime(account.updated_at)
    await enqueue(session, table=outbox, topic=ADMINS_TOPIC, key=account.username, message=event, producer=PRODUCER)


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
        await publish_credentials_changed(session, account, PASSWORD_RESET)
    checker.forget_all()
    log.info("admin_account_password_reset", username=username, actor=actor)
    return account
