"""User reads the edge may answer without an RPC: what a service let it keep, until it changes.

A service may say that a user read's reply stays true until one of its change
events names the user: it sets the trailing metadata `galaxy-cacheable-for-ms`
(galaxy_kit.caching) on the reply, bounded by its own setting and by the first
moment the answer changes with no write (an entitlement that ends, a sanction
that expires...). The edge keeps the response body as sent, per user and
operation, for that long at most (counted from when the call began, so never
past the service's moment) and at most `max_seconds` (its own bound).

Only services whose change topic the edge follows may have replies kept
(`CHANGE_TOPICS`): account publishes `AccountChanged` on
`galaxy.account.changes.v1`, through its outbox, in every transaction that
changes what its user read answers (docs/account.md). The edge's event feed
(galaxy_edge.event_feed, whose module doc holds the trust rules: confirmed
feed, no stale insert, doubt resets) reads every record of that topic and
forgets every reply kept for the user it names. A write through this edge
(any non-GET operation of such a service naming a user: the caller, or the
path's user_id) forgets that user's replies at once, whatever the service
answered, so the caller reads its own write here; other edges learn it from
the event.

The window (docs/architecture.md, "The edge"): a change is seen by every edge
within the relay's and the fetch's latency (well under a second); when the feed
breaks, within `max_silence_seconds` + `heartbeat_seconds` at worst (the cache
then answers nothing); a time-based change is never served late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from galaxy.events.v1.account_pb2 import AccountChanged
from galaxy_kit.events import MalformedEvent, unpack, unpack_payload

from galaxy_edge.event_feed import FeedCache, Subscription

#: Services whose user reads the edge may keep → the topic of their change events.
CHANGE_TOPICS = {"account": "galaxy.account.changes.v1"}

#: Per user: operation key → (response body, monotonic deadline).
UserReplies = dict[str, tuple[bytes, float]]


class ReplyCache(FeedCache[UserReplies]):
    """Bounded LRU, by user id, of the replies of that user's reads the service let the edge keep."""

    def __init__(
        self,
        *,
        max_users: int,
        max_silence_seconds: float,
        max_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            name="reply cache",
            max_entries=max_users,
            max_silence_seconds=max_silence_seconds,
            clock=clock,
        )
        self.max_seconds = max_seconds

    def now(self) -> float:
        """Take it before the call whose reply may be kept; pass it to `keep`."""
        return self._clock()

    @staticmethod
    def user_key(user_id: Any) -> str | None:
        """Events carry the canonical lower-case id; anything not a non-empty string is not cached."""
        return user_id.lower() if isinstance(user_id, str) and user_id else None

    def answer(self, user: str, operation: str) -> bytes | None:
        """The kept response body, while the feed is trusted and the deadline not passed."""
        replies = self.get(user)
        if replies is None:
            return None
        entry = replies.get(operation)
        if entry is None:
            return None
        body, until = entry
        if self._clock() >= until:
            return None
        return body

    def keep(
        self,
        user: str,
        operation: str,
        body: bytes,
        *,
        cacheable_seconds: float | None,
        started_at: float,
        generation: int,
    ) -> None:
        """Keep a reply the service let the edge keep for `cacheable_seconds` (None: it did not),
        counted from `started_at`, unless the cache moved on since the lookup began."""
        if cacheable_seconds is None or cacheable_seconds <= 0:
            return
        until = started_at + min(cacheable_seconds, self.max_seconds)
        if generation != self.generation or not self.trusted or self._clock() >= until:
            return
        current = self._entries.get(user)
        replies = dict(current[0]) if current is not None else {}
        replies[operation] = (body, until)
        self.remember(user, replies, generation)

    def forget_user(self, user_id: Any) -> None:
        """A write about this user went through this edge: its next read asks the service."""
        user = self.user_key(user_id)
        if user is not None:
            self.evict(user)


def changes_subscription(cache: ReplyCache, topic: str = CHANGE_TOPICS["account"]) -> Subscription:
    """Forget the replies kept for the user an AccountChanged names."""

    def apply(value: bytes | None) -> str:
        event = unpack_payload(unpack(value), AccountChanged)
        if not event.user_id:
            raise MalformedEvent(f"AccountChanged without a user id: {event!r}")
        cache.evict(event.user_id.lower())
        return f"account of {event.user_id} changed, replies forgotten"

    return Subscription(topic, (cache,), apply)
