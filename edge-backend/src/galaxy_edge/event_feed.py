"""Caches of downstream answers the edge may serve without an RPC, and the feed that keeps them true.

The edge remembers answers that only an event can make wrong: a user account is
`active` until account publishes its deletion or block (galaxy_edge.identity_cache),
a device session is `active` until auth publishes its revocation
(galaxy_edge.session_cache), admin credentials auth accepted stay good until
auth publishes a disable or a password reset (galaxy_edge.admin_cache). Each such cache is a `FeedCache`; one `EventFeed`
per edge process reads every record of the topics that evict them — no
consumer group, every partition assigned to this process, starting from the
latest offsets — and hands each record to the `Subscription` of its topic.

The rule that keeps every cache fail-closed (docs/architecture.md, "The edge"):

* **Trust.** Every `heartbeat_seconds` the feed asks the broker for the end
  offsets of all its topics; once it has read up to them, everything published
  before that request has been applied, and every cache of the feed is
  *confirmed* as of the request's time. A cache answers only while its last
  confirmation is at most `max_silence_seconds` old. Otherwise (broker down,
  feed stuck, lagging) it answers nothing and the caller asks the owning
  service on every request; it is emptied so that nothing learnt before the
  gap is trusted after it.
* **No stale insert.** A lookup remembers the cache's generation when it
  starts; `remember` drops its answer if any event or reset happened since
  (the answer may predate an event the feed has just applied).
* **Doubt resets.** An offset out of range (a broker that lost its storage),
  a topic that disappeared or changed its partition count: the feed
  repositions (to the start of a reset log, else to the end), THEN its caches
  are emptied and their generations bumped — so every later lookup reads the
  service's state after the position the feed reads from. A record a
  subscription cannot read empties that subscription's caches.
* **Bounded.** At most `max_entries` entries, least recently used evicted
  first; with `ttl_seconds`, an entry is also dropped that long after it was
  remembered (so the owning service still sees a live key now and then).

With a healthy feed an event is applied by every edge within about the
relay's and the fetch's latency (well under a second); when the feed breaks,
the caches stop answering within `max_silence_seconds` + `heartbeat_seconds`
at worst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import OffsetOutOfRangeError
from galaxy_kit.events import MalformedEvent, ensure_topics, partition_counts

log = logging.getLogger(__name__)

V = TypeVar("V")


class FeedCache(Generic[V]):
    """Bounded LRU of answers (key → value), trusted only while its feed confirms it."""

    def __init__(
        self,
        *,
        name: str,
        max_entries: int,
        max_silence_seconds: float,
        ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.name = name
        self.max_entries = max_entries
        self.max_silence_seconds = max_silence_seconds
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[V, float]] = OrderedDict()
        self._confirmed_at = -math.inf
        self._generation = 0
        self.hits = 0
        self.evictions = 0
        self.expiries = 0
        self.resets = 0

    @property
    def generation(self) -> int:
        """Take it before a lookup; pass it to `remember` with the answer."""
        return self._generation

    @property
    def trusted(self) -> bool:
        return self._clock() - self._confirmed_at <= self.max_silence_seconds

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        """The remembered answer, if the cache may be trusted now and it has not expired."""
        if not self.trusted:
            if self._entries:
                log.warning(
                    "%s: feed unconfirmed for over %.1fs: dropping %d entries, "
                    "asking on every request",
                    self.name,
                    self.max_silence_seconds,
                    len(self._entries),
                )
                self._entries.clear()
                self._generation += 1
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, remembered_at = entry
        if self.ttl_seconds is not None and self._clock() - remembered_at > self.ttl_seconds:
            del self._entries[key]
            self.expiries += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def remember(self, key: str, value: V, generation: int) -> None:
        """Keep an answer, unless the cache moved on since the lookup began."""
        if generation != self._generation or not self.trusted:
            return
        self._entries[key] = (value, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def evict(self, key: str) -> None:
        """The answer about `key` may have changed (an event named it)."""
        self._generation += 1
        if self._entries.pop(key, None) is not None:
            self.evictions += 1

    def evict_matching(self, predicate: Callable[[V], bool]) -> None:
        """Evict every entry whose answer satisfies `predicate` (a scan: for rare writes)."""
        self._generation += 1
        for key in [k for k, (value, _) in self._entries.items() if predicate(value)]:
            del self._entries[key]
            self.evictions += 1

    def confirm(self, as_of: float) -> None:
        """Every event published before `as_of` (a clock reading) has been applied."""
        self._confirmed_at = max(self._confirmed_at, as_of)

    def reset(self) -> None:
        """Forget everything; trust again only after the next confirmation."""
        self._entries.clear()
        self._generation += 1
        self._confirmed_at = -math.inf
        self.resets += 1


@dataclass(frozen=True)
class Subscription:
    """One topic of a feed: `apply` reads a record's value and evicts from `caches`.

    `apply` returns a short description of what it did (logged), or raises
    MalformedEvent for a record it cannot read (the caches are then emptied).
    """

    topic: str
    caches: tuple[FeedCache, ...]
    apply: Callable[[bytes | None], str]


class EventFeed:
    """Reads every record of its subscriptions' topics; run it as a task, `await stop()` to end it."""

    def __init__(
        self,
        subscriptions: Sequence[Subscription],
        *,
        bootstrap_servers: str,
        name: str = "event feed",
        heartbeat_seconds: float = 0.5,
        request_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not subscriptions or len({s.topic for s in subscriptions}) != len(subscriptions):
            raise ValueError("a feed needs subscriptions, one per topic")
        self.subscriptions = {s.topic: s for s in subscriptions}
        self.caches = list({id(c): c for s in subscriptions for c in s.caches}.values())
        self.bootstrap_servers = bootstrap_servers
        self.name = name
        self.heartbeat_seconds = heartbeat_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self._clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.applied = 0

    @property
    def topics(self) -> list[str]:
        return list(self.subscriptions)

    @property
    def trusted(self) -> bool:
        return all(cache.trusted for cache in self.caches)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

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
        """Follow the topics until stopped; any failure restarts the consumer after a pause."""
        failures = 0
        timeout_ms = int(self.request_timeout_seconds * 1000)
        client_id = "galaxy-edge-" + self.name.replace(" ", "-")
        while not self._stopping.is_set():
            # Asks for the topics' partitions (metadata requests that never auto-create a topic).
            metadata = AIOKafkaClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=timeout_ms,
                client_id=client_id + "-admin",
            )
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="none",  # an out-of-range position is a reset we must see
                fetch_max_wait_ms=100,
                request_timeout_ms=timeout_ms,
                client_id=client_id,
            )
            try:
                await ensure_topics(
                    self.bootstrap_servers,
                    self.topics,
                    request_timeout_ms=timeout_ms,
                    client_id=client_id + "-admin",
                )
                await metadata.bootstrap()
                await consumer.start()
                failures = 0
                await self._follow(consumer, metadata)
            except Exception as exc:  # noqa: BLE001 - broker trouble: the caches stop being trusted
                failures += 1
                log.warning("%s interrupted (attempt %d); retrying: %r", self.name, failures, exc)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                with contextlib.suppress(Exception):
                    await metadata.close()
            await self._pause(min(self.heartbeat_seconds * 2 ** max(0, failures - 1), 5.0))

    async def _follow(self, consumer: AIOKafkaConsumer, metadata: AIOKafkaClient) -> None:
        counts, partitions = await self._assign_from_end(consumer, metadata)
        target: tuple[float, dict[TopicPartition, int]] | None = None
        next_heartbeat = self._clock()
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(*partitions, timeout_ms=100)
            except OffsetOutOfRangeError:
                log.warning("%s: offsets out of range (log reset); re-reading it", self.name)
                await self._reposition(consumer, partitions, to_end=False)
                target = None
                continue
            for tp, records in batches.items():
                subscription = self.subscriptions[tp.topic]
                for record in records:
                    self._apply(subscription, record.value, record.timestamp)
            if self._clock() >= next_heartbeat:
                next_heartbeat = self._clock() + self.heartbeat_seconds
                asked_at = self._clock()
                if await self._partition_counts(metadata) != counts:
                    log.warning("%s: partitions of its topics changed; re-assigning", self.name)
                    counts, partitions = await self._assign_from_end(consumer, metadata)
                    target = None
                    continue
                # No "position past the end means the log was reset" check here: Tansu
                # reports an end offset behind a multi-record batch it has just served,
                # so that check fired on healthy logs. A reset log shows up as an
                # out-of-range fetch or as a topic disappearing (above).
                ends = await asyncio.wait_for(
                    consumer.end_offsets(partitions), self.request_timeout_seconds
                )
                target = (asked_at, ends)
            if target is not None:
                asked_at, ends = target
                if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    if not self.trusted:
                        log.info("%s caught up: its caches are trusted", self.name)
                    for cache in self.caches:
                        cache.confirm(asked_at)
                    target = None

    async def _assign_from_end(
        self, consumer: AIOKafkaConsumer, metadata: AIOKafkaClient
    ) -> tuple[dict[str, int] | None, list[TopicPartition]]:
        counts = None
        while counts is None and not self._stopping.is_set():
            counts = await self._partition_counts(metadata)
            if counts is None:
                await self._pause(self.heartbeat_seconds)
        partitions = [
            TopicPartition(topic, p) for topic, count in (counts or {}).items() for p in range(count)
        ]
        consumer.assign(partitions)
        await self._reposition(consumer, partitions, to_end=True)
        log.info("%s following %s (%d partitions)", self.name, ", ".join(self.topics), len(partitions))
        return counts, partitions

    async def _reposition(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition], *, to_end: bool
    ) -> None:
        """Seek, resolve the positions, THEN reset the caches (see the module doc)."""
        if to_end:
            await consumer.seek_to_end(*partitions)
        else:
            await consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        for cache in self.caches:
            cache.reset()

    async def _partition_counts(self, metadata: AIOKafkaClient) -> dict[str, int] | None:
        """Each topic's partition count from fresh metadata; None while the broker lacks one.

        A topic the broker lacks (it lost its storage) is created, with the kit's partition
        count, as at start: the producer of a rarely used topic may not publish for hours, and
        the caches stay untrusted until every topic is followed again.
        """
        counts = await asyncio.wait_for(
            partition_counts(metadata, self.topics), self.request_timeout_seconds
        )
        missing = [topic for topic in self.subscriptions if topic not in counts]
        if missing:
            log.warning("%s: the broker lacks %s; creating it", self.name, ", ".join(missing))
            await ensure_topics(
                self.bootstrap_servers,
                missing,
                request_timeout_ms=int(self.request_timeout_seconds * 1000),
                client_id="galaxy-edge-" + self.name.replace(" ", "-") + "-metadata",
            )
            return None
        return counts

    def _apply(self, subscription: Subscription, value: bytes | None, published_ms: int) -> None:
        try:
            applied = subscription.apply(value)
        except MalformedEvent as exc:
            # A record we cannot read may have named anything it evicts: forget everything.
            log.error(
                "%s: malformed record on %s, emptying its caches: %s",
                self.name,
                subscription.topic,
                exc,
            )
            for cache in subscription.caches:
                cache.reset()
            return
        self.applied += 1
        # Rare (one per deletion, block or revocation) and the figure that explains a slow refusal.
        log.info(
            "%s: %s %.3fs after the broker's timestamp",
            self.name,
            applied,
            time.time() - published_ms / 1000,
        )

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
