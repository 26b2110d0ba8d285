"""Active users the edge may let through without asking account, and what evicts them.

The identity gate (galaxy_edge.identity) asks account's `ResolveUserIdentity`
for a user it has not seen; an `active` answer is remembered here, so the
steady state costs no RPC. A user leaves the active state only through
`galaxy.account.lifecycle.v1` (account publishes `soft_deleted` and
`permanently_blocked` through its outbox after the change commits), so the
edge's event feed (galaxy_edge.event_feed, whose module doc holds the trust
rules) reads every record of that topic and evicts the user it names.

A block or a deletion is refused by every edge within about the relay's and
the fetch's latency (well under a second); when the feed breaks, within
`max_silence_seconds` + `heartbeat_seconds` at worst.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import unpack, unpack_payload

from galaxy_edge.event_feed import FeedCache, Subscription

LIFECYCLE_TOPIC = "galaxy.account.lifecycle.v1"


class IdentityCache(FeedCache[bool]):
    """Bounded LRU of user ids account answered `active` for; trusted only while confirmed."""

    def __init__(
        self,
        *,
        max_users: int,
        max_silence_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            name="identity cache",
            max_entries=max_users,
            max_silence_seconds=max_silence_seconds,
            clock=clock,
        )

    def is_active(self, user_id: str) -> bool:
        """True if the user is known active and the cache may be trusted now."""
        return self.get(user_id) is not None

    def remember(self, user_id: str, generation: int, value: bool = True) -> None:  # type: ignore[override]
        """Keep an `active` answer, unless the cache moved on since the lookup began."""
        super().remember(user_id, value, generation)


def lifecycle_subscription(cache: IdentityCache, topic: str = LIFECYCLE_TOPIC) -> Subscription:
    """Evict the user a lifecycle event names (a deletion or a block)."""

    def apply(value: bytes | None) -> str:
        event = unpack_payload(unpack(value), AccountLifecycleEvent)
        cache.evict(event.user_id.lower())
        return f"{event.kind} {event.user_id} evicted"

    return Subscription(topic, (cache,), apply)
