"""Answers of `GET /api/v1/internal/sessions/{id}` the edge may give without asking auth.

The gateway looks its device session up on every request. The edge remembers
auth's `InternalSessionsGet` answer for an **active** session (the response
body as sent), so the steady state costs no RPC; a 404, a revoked session or
an error is never remembered. A session leaves the active state only through
a revocation, and auth publishes every revocation — by the user, by an
administrator, or its cascade on an account's deletion or block — as a
`DeviceSessionRevoked` event on `galaxy.auth.sessions.v1`, through its outbox,
in the revoking transaction. The edge's event feed (galaxy_edge.event_feed,
whose module doc holds the trust rules) reads every record of that topic and
evicts the session it names.

The edge that carries a revocation (`userSessionsRevoke`, `userSessionsRevokeAll`)
forgets the sessions it names at once, whatever auth answered, so the caller
reads its own write there; other edges learn it from the event.

An entry also expires `ttl_seconds` after auth's answer: auth's lookup is
what moves the session's `last_seen_at` (at most once per its resolution,
GALAXY_AUTH_SESSION_LAST_SEEN_RESOLUTION_SECONDS), so a TTL well under that
resolution keeps `last_seen_at` true to it. The price: a cached answer shows
`last_seen_at` as auth last wrote it, up to `ttl_seconds` older than an
uncached answer would (docs/auth.md, "Device sessions").
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from galaxy.events.v1.auth_pb2 import DeviceSessionRevoked
from galaxy_kit.events import MalformedEvent, unpack, unpack_payload

from galaxy_edge.event_feed import FeedCache, Subscription

SESSIONS_TOPIC = "galaxy.auth.sessions.v1"
#: The operation whose answers are cached, and its key field.
OPERATION_ID = "internalSessionsGet"
KEY_FIELD = "device_session_id"
#: Operations that revoke sessions: the edge carrying one forgets what it names (read your writes).
REVOKING_OPERATIONS = frozenset({"userSessionsRevoke", "userSessionsRevokeAll"})
ACTIVE = "active"


class SessionCache(FeedCache[tuple[bytes, str]]):
    """Bounded LRU of (response body, user id) of active sessions, by device session id."""

    def __init__(
        self,
        *,
        max_sessions: int,
        max_silence_seconds: float,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            name="session cache",
            max_entries=max_sessions,
            max_silence_seconds=max_silence_seconds,
            ttl_seconds=ttl_seconds,
            clock=clock,
        )

    @staticmethod
    def key_of(fields: dict[str, Any]) -> str | None:
        """The cache key of a validated request: the id's canonical UUID text, the form events
        carry (an upper-case or brace-wrapped id must be evicted by the same event); None (not
        cached) for anything that is not a UUID."""
        value = fields.get(KEY_FIELD)
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            return None

    def answer(self, key: str) -> bytes | None:
        """The remembered response body (see `FeedCache.get`)."""
        entry = self.get(key)
        return None if entry is None else entry[0]

    def keep(self, key: str, reply: Any, body: bytes, generation: int) -> None:
        """Remember the answer if it says the session is active (see `FeedCache.remember`)."""
        if getattr(reply, "status", None) == ACTIVE:
            self.remember(key, (body, str(getattr(reply, "user_id", "")).lower()), generation)

    def forget(self, fields: dict[str, Any]) -> None:
        """Read your writes: a revocation this edge carried is answered `revoked` here at once,
        without waiting for its event (other edges learn it from the feed). `fields` are the
        request's: its session, else every session of its caller (revoke-all)."""
        key = self.key_of(fields)
        if key is not None:
            self.evict(key)
            return
        user_id = fields.get("user_id")
        if isinstance(user_id, str) and user_id:
            owner = user_id.lower()
            # A scan, not an index: revoke-all is rare and the cache is bounded.
            self.evict_matching(lambda entry: entry[1] == owner)


def revocation_subscription(cache: SessionCache, topic: str = SESSIONS_TOPIC) -> Subscription:
    """Evict the session a DeviceSessionRevoked event names."""

    def apply(value: bytes | None) -> str:
        event = unpack_payload(unpack(value), DeviceSessionRevoked)
        try:
            key = str(uuid.UUID(event.device_session_id))
        except ValueError:
            raise MalformedEvent(f"DeviceSessionRevoked without a session id: {event!r}") from None
        cache.evict(key)
        return f"session {event.device_session_id} revoked, evicted"

    return Subscription(topic, (cache,), apply)
