"""Admin Basic credentials auth has verified, which the edge may accept without asking again.

Every admin request carries `Authorization: Basic`, and without this cache each
one costs auth's `CheckAdminCredentials` before the operation's own RPC. The
edge remembers a successful check for `ttl_seconds`, keyed by a **keyed hash of
the header** (HMAC-SHA256 under a random key made per process and never
written anywhere): neither the password nor anything it could be guessed from
offline is kept. The value is the username auth confirmed. A refused check, a
503 or a malformed header is never remembered, so wrong guesses all reach auth
and its throttle.

Credentials stop being good only when auth disables the administrator or resets
their password; auth publishes both as `AdminCredentialsChanged` on
`galaxy.auth.admins.v1` through its outbox, in the changing transaction. The
edge's event feed (galaxy_edge.event_feed, whose module doc holds the trust
rules) reads every record of that topic and forgets every credential of the
administrator it names. The edge that carries the disable or the reset forgets
every credential it remembers at once, whatever auth answered, without waiting
for the event.

The window (docs/architecture.md, "The edge"): a disabled administrator or an
old password is refused by every edge within the relay's and the fetch's
latency (well under a second); when the feed breaks, within
`max_silence_seconds` + `heartbeat_seconds` at worst (the cache then answers
nothing); and in no case later than `ttl_seconds` after auth's last check,
which also keeps auth's `last_used_at` true to its one-minute resolution.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from galaxy.events.v1.auth_pb2 import AdminCredentialsChanged
from galaxy_kit.events import MalformedEvent, unpack, unpack_payload

from galaxy_edge.event_feed import FeedCache, Subscription

ADMINS_TOPIC = "galaxy.auth.admins.v1"
#: Operations after which the carrying edge forgets every credential it remembers.
CREDENTIAL_CHANGING_OPERATIONS = frozenset(
    {"adminAdminAccountsDisable", "adminAdminAccountsResetPassword"}
)


class AdminCredentialCache(FeedCache[str]):
    """Bounded LRU of verified Basic headers (as keyed digests) → the confirmed username."""

    def __init__(
        self,
        *,
        max_credentials: int,
        max_silence_seconds: float,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            name="admin credential cache",
            max_entries=max_credentials,
            max_silence_seconds=max_silence_seconds,
            ttl_seconds=ttl_seconds,
            clock=clock,
        )
        self._key = secrets.token_bytes(32)

    def key_of(self, authorization: str) -> str:
        """The digest an `Authorization` header is remembered under (the header as received:
        another spelling of the same credentials is simply checked by auth once more)."""
        material = authorization.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, material, hashlib.sha256).hexdigest()

    def username(self, key: str) -> str | None:
        """The administrator a remembered check confirmed (see `FeedCache.get`)."""
        return self.get(key)

    def keep(self, key: str, username: str, generation: int) -> None:
        """Remember a check auth accepted (see `FeedCache.remember`)."""
        self.remember(key, username, generation)

    def forget_admin(self, username: str) -> None:
        """Every remembered credential of this administrator (a scan: changes are rare)."""
        self.evict_matching(lambda confirmed: confirmed == username)

    def forget_all(self) -> None:
        """Every remembered credential: this edge carried a disable or a reset."""
        self.evict_matching(lambda _confirmed: True)


def admin_subscription(cache: AdminCredentialCache, topic: str = ADMINS_TOPIC) -> Subscription:
    """Forget the credentials of the administrator an AdminCredentialsChanged names."""

    def apply(value: bytes | None) -> str:
        event = unpack_payload(unpack(value), AdminCredentialsChanged)
        if not event.username:
            raise MalformedEvent(f"AdminCredentialsChanged without a username: {event!r}")
        cache.forget_admin(event.username)
        return f"admin {event.username} {event.change}, credentials forgotten"

    return Subscription(topic, (cache,), apply)
