"""Active users the edge may let through without asking account, and the feed that keeps it true.

The identity gate (galaxy_edge.identity) asks account's `ResolveUserIdentity`
for a user it has not seen; an `active` answer is remembered here, so the
steady state costs no RPC. A user leaves the active state only through
`galaxy.account.lifecycle.v1` (account publishes `soft_deleted` and
`permanently_blocked` through its outbox after the change commits), so the
`LifecycleFeed` of every edge process reads every record of that topic — no
consumer group, every partition assigned to this process, starting from the
latest offsets — and evicts the user it names.

The rule that keeps it fail-closed (docs/architecture.md, "The edge"):

* **Trust.** Every `heartbeat_seconds` the feed asks the broker for the
  topic's end offsets; once it has read up to them, everything published
  before that request has been applied, and the cache is *confirmed* as of
  the request's time. The cache answers only while the last confirmation is
  at most `max_silence_seconds` old. Otherwise (broker down, feed stuck,
  lagging) it answers nothing and the gate asks account on every request;
  it is emptied so that nothing learnt before the gap is trusted after it.
* **No stale insert.** A lookup remembers the cache's generation when it
  starts; `remember` drops its answer if any event or reset happened since
  (the answer may predate a block the feed has just applied).
* **Doubt resets.** An offset out of range (a broker that lost its storage),
  a topic that disappeared or changed its partition count: the feed
  repositions (to the start of a reset log, else to the end), THEN the cache
  is emptied and the generation bumped — so every later lookup reads
  account's state after the position the feed reads from.
* **Bounded.** At most `max_users` entries, least recently used evicted first.

With a healthy feed a block or a deletion is refused by every edge within
about the relay's and the fetch's latency (well under a second); when the
feed breaks, within `max_silence_seconds` + `heartbeat_seconds` at worst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import OffsetOutOfRangeError
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import MalformedEvent, ensure_topics, unpack, unpack_payload

log = logging.getLogger(__name__)

LIFECYCLE_TOPIC = "galaxy.account.lifecycle.v1"


class IdentityCache:
    """Bounded LRU of user ids account answered `active` for; trusted only while confirmed."""

    def __init__(
        self,
        *,
        max_users: int,
        max_silence_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_users < 1:
            raise ValueError("max_users must be at least 1")
        self.max_users = max_users
        self.max_silence_seconds = max_silence_seconds
        self._clock = clock
        self._users: OrderedDict[str, None] = OrderedDict()
        self._confirmed_at = -math.inf
        self._generation = 0
        self.hits = 0
        self.evictions = 0
        self.resets = 0

    @property
    def generation(self) -> int:
        """Take it before a lookup; pass it to `remember` with the answer."""
        return self._generation

    @property
    def trusted(self) -> bool:
        return self._clock() - self._confirmed_at <= self.max_silence_seconds

    def __len__(self) -> int:
        return len(self._users)

    def is_active(self, user_id: str) -> bool:
        """True if the user is known active and the cache may be trusted now."""
        if not self.trusted:
            if self._users:
                log.warning(
                    "identity feed unconfirmed for over %.1fs: dropping %d cached users, "
                    "asking account on every request",
                    self.max_silence_seconds,
                    len(self._users),
                )
                self._users.clear()
                self._generation += 1
            return False
        if user_id not in self._users:
            return False
        self._users.move_to_end(user_id)
        self.hits += 1
        return True

    def remember(self, user_id: str, generation: int) -> None:
        """Keep an `active` answer, unless the cache moved on since the lookup began."""
        if generation != self._generation or not self.trusted:
            return
        self._users[user_id] = None
        self._users.move_to_end(user_id)
        while len(self._users) > self.max_users:
            self._users.popitem(last=False)

    def evict(self, user_id: str) -> None:
        """The user left the active state (a lifecycle event)."""
        self._generation += 1
        if user_id in self._users:
            del self._users[user_id]
            self.evictions += 1

    def confirm(self, as_of: float) -> None:
        """Every event published before `as_of` (a clock reading) has been applied."""
        self._confirmed_at = max(self._confirmed_at, as_of)

    def reset(self) -> None:
        """Forget everything; trust again only after the next confirmation."""
        self._users.clear()
        self._generation += 1
        self._confirmed_at = -math.inf
        self.resets += 1


class LifecycleFeed:
    """Reads every lifecycle event into `cache`; run it as a task, `await stop()` to end it."""

    def __init__(
        self,
        cache: IdentityCache,
        *,
        bootstrap_servers: str,
        topic: str = LIFECYCLE_TOPIC,
        heartbeat_seconds: float = 0.5,
        request_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.heartbeat_seconds = heartbeat_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self._clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.applied = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="identity-feed")

    async def stop(self, grace_seconds: float = 2.0) -> None:
        """Stop following; a broker call in flight is cancelled after `grace_seconds`."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        """Follow the topic until stopped; any failure restarts the consumer after a pause."""
        failures = 0
        timeout_ms = int(self.request_timeout_seconds * 1000)
        while not self._stopping.is_set():
            # The admin client asks for the topic's partitions (a plain metadata request).
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=timeout_ms,
                client_id="galaxy-edge-identity-feed-admin",
            )
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="none",  # an out-of-range position is a reset we must see
                fetch_max_wait_ms=100,
                request_timeout_ms=timeout_ms,
                client_id="galaxy-edge-identity-feed",
            )
            try:
                await ensure_topics(
                    self.bootstrap_servers,
                    [self.topic],
                    request_timeout_ms=timeout_ms,
                    client_id="galaxy-edge-identity-feed-admin",
                )
                await admin.start()
                await consumer.start()
                failures = 0
                await self._follow(consumer, admin)
            except Exception as exc:  # noqa: BLE001 - broker trouble: the cache stops being trusted
                failures += 1
                log.warning("identity feed interrupted (attempt %d); retrying: %r", failures, exc)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                with contextlib.suppress(Exception):
                    await admin.close()
            await self._pause(min(self.heartbeat_seconds * 2 ** max(0, failures - 1), 5.0))

    async def _follow(self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient) -> None:
        partitions = await self._assign_from_end(consumer, admin)
        target: tuple[float, dict[TopicPartition, int]] | None = None
        next_heartbeat = self._clock()
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(*partitions, timeout_ms=100)
            except OffsetOutOfRangeError:
                log.warning("identity feed: offsets out of range (log reset); re-reading it")
                await self._reposition(consumer, partitions, to_end=False)
                target = None
                continue
            for records in batches.values():
                for record in records:
                    self._apply(record.value, record.timestamp)
            if self._clock() >= next_heartbeat:
                next_heartbeat = self._clock() + self.heartbeat_seconds
                asked_at = self._clock()
                if await self._partition_count(admin) != len(partitions):
                    log.warning("identity feed: partitions of %s changed; re-assigning", self.topic)
                    partitions = await self._assign_from_end(consumer, admin)
                    target = None
                    continue
                # No "position past the end means the log was reset" check here: Tansu
                # reports an end offset behind a multi-record batch it has just served,
                # so that check fired on healthy logs. A reset log shows up as an
                # out-of-range fetch or as the topic disappearing (above).
                ends = await asyncio.wait_for(
                    consumer.end_offsets(partitions), self.request_timeout_seconds
                )
                target = (asked_at, ends)
            if target is not None:
                asked_at, ends = target
                if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    if not self.cache.trusted:
                        log.info("identity feed caught up: the identity cache is trusted")
                    self.cache.confirm(asked_at)
                    target = None

    async def _assign_from_end(
        self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient
    ) -> list[TopicPartition]:
        count = None
        while count is None and not self._stopping.is_set():
            count = await self._partition_count(admin)
            if count is None:
                await self._pause(self.heartbeat_seconds)
        partitions = [TopicPartition(self.topic, p) for p in range(count or 0)]
        consumer.assign(partitions)
        await self._reposition(consumer, partitions, to_end=True)
        log.info("identity feed following %s (%d partitions)", self.topic, len(partitions))
        return partitions

    async def _reposition(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition], *, to_end: bool
    ) -> None:
        """Seek, resolve the positions, THEN reset the cache (see the module doc)."""
        if to_end:
            await consumer.seek_to_end(*partitions)
        else:
            await consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        self.cache.reset()

    async def _partition_count(self, admin: AIOKafkaAdminClient) -> int | None:
        """The topic's partition count from fresh metadata; None while the broker has no topic."""
        topics = await asyncio.wait_for(
            admin.describe_topics([self.topic]), self.request_timeout_seconds
        )
        for entry in topics:
            if entry["topic"] == self.topic and entry["error_code"] == 0 and entry["partitions"]:
                return len(entry["partitions"])
        return None

    def _apply(self, value: bytes | None, published_ms: int) -> None:
        try:
            event = unpack_payload(unpack(value), AccountLifecycleEvent)
        except MalformedEvent as exc:
            # Not a lifecycle event we understand; evicting nothing is safe only if it
            # named nobody, so be conservative: forget everyone.
            log.error("identity feed: malformed lifecycle record, emptying the cache: %s", exc)
            self.cache.reset()
            return
        self.cache.evict(event.user_id.lower())
        self.applied += 1
        # Rare (one per deletion or block) and the figure that explains a slow refusal.
        log.info(
            "identity feed: %s %s evicted %.3fs after the broker's timestamp",
            event.kind,
            event.user_id,
            time.time() - published_ms / 1000,
        )

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
