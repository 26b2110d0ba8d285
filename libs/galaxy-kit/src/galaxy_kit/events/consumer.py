"""Idempotent Kafka consumer: the effect and the inbox row commit together.

For every record, in partition order:

1. decode the EventEnvelope (`unpack`);
2. in ONE database transaction: `INSERT` the inbox row (consumer_group,
   event_id) `ON CONFLICT DO NOTHING`; if it already existed the event was
   applied before (a redelivery, or a relay republishing after a crash) and
   the handler is skipped; otherwise `await handler(session, envelope, record)`
   does its work in that same session;
3. commit the transaction, THEN commit the Kafka offset of that record.

A crash anywhere before 3 leaves no effect and no inbox row, so the record is
delivered again; a crash between the database commit and the offset commit
redelivers a record whose inbox row exists, which is skipped. Effects are
applied exactly once; nothing is skipped.

Handler failures (any exception, including a database outage): the
transaction rolls back, the offset is not committed, the partition is seeked
back to the failed record and paused for a back-off (`retry_backoff` doubling
per attempt up to `max_retry_backoff` seconds) while other partitions go on;
then the same record is retried. By default it is retried forever
(`max_attempts=None`): a record is never skipped silently. With
`max_attempts=N`, after N failed attempts either `on_give_up(session,
envelope, record, error)` is called (in a transaction that also records the
inbox row, e.g. to write a dead-letter row; then the offset is committed) or,
without that hook, `run()` raises `HandlerRetriesExhausted` with the offset
still uncommitted, so a restarted consumer tries the record again.

Malformed records (not a usable EventEnvelope: undecodable bytes, no UUID
event id, no payload), and events whose handler raises `MalformedEvent`
(e.g. from `unpack_payload` on a payload of the wrong type), are never
retried: `on_malformed(session, record, error)` is called in a transaction
that records an inbox row keyed by the event id, or for undecodable records by
a UUID derived from (topic, partition, offset, value digest), so it too runs
once; then the offset is committed. Without the hook they are logged at error
level and the offset is committed.

Offsets: `enable_auto_commit=False`, `auto_offset_reset="earliest"`; a new
consumer in the same group resumes from the committed offsets. An offset
commit is bounded by `commit_timeout` (aiokafka alone retries some commit
errors forever); after a failed commit the partition's latest offset is kept
and committed again every `commit_retry_interval` seconds and on stop, while
processing goes on (a redelivery is skipped by the inbox). On a rebalance,
deferred commits of revoked partitions are dropped and offsets of records
fetched under the previous assignment are never committed: the new
assignment starts from the committed offsets (after a memory-storage broker
restart, stale offsets would otherwise skip records never read). The retry
bookkeeping of revoked partitions (failed attempts per record, back-off
pauses) is dropped with them: if the partition comes back, its records start
again with a full `max_attempts`. `await consumer.stop()` finishes the
record in hand, commits what is pending and leaves the group.

Topics: before subscribing, missing topics are created with `partitions`
partitions (`create_topics=False` to leave that to the deployment), so a
consumer that starts before any producer does not get the broker's
auto-created default; no Galaxy client lets the broker auto-create a topic
(`galaxy_kit.events.topics`). The consumer refreshes metadata every
`METADATA_MAX_AGE_MS` (5 s, not aiokafka's 5 minutes), so a partition count
changed by the deployment makes the group rebalance onto every partition
within seconds.

A broker that lost its storage (Tansu's memory storage after a restart) is a
new broker: when a topic this consumer was reading vanishes from the
metadata, the consumer leaves the group and starts over as at process start
(topics created, a new member, positions from the committed offsets, which
the broker lost too: the earliest; the inbox skips what was applied). Only
starting over is reliable there: a member that rejoined while the topic was
missing was assigned nothing, and Tansu hands the same member the same
(empty) assignment on every later rejoin of its generation 0, so records of
the recreated topic went unread.

Offsets are committed in the group generation the record was fetched in, and
never while aiokafka has reset the generation (the broker answered "unknown
member": it lost the group). Such a commit would go out as a memberless
commit, which the broker stores, and an offset read at a stale position of
the lost log would survive the rejoin (`_commit_in_generation`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import ConsumerStoppedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_kit.db import transaction
from galaxy_kit.events.envelope import EventEnvelope, MalformedEvent, unpack
from galaxy_kit.events.topics import DEFAULT_PARTITIONS, ensure_topics

log = structlog.get_logger(__name__)

__all__ = [
    "GiveUpHandler",
    "Handler",
    "HandlerRetriesExhausted",
    "IdempotentConsumer",
    "MalformedHandler",
    "malformed_record_id",
]

Handler = Callable[[AsyncSession, EventEnvelope, ConsumerRecord], Awaitable[None]]
MalformedHandler = Callable[[AsyncSession, ConsumerRecord, MalformedEvent], Awaitable[None]]
GiveUpHandler = Callable[
    [AsyncSession, EventEnvelope | None, ConsumerRecord, BaseException], Awaitable[None]
]

#: How often a consumer refreshes topic metadata, so it sees a topic's partition count change
#: (and rebalances onto the new partitions) within seconds; one small request per period.
METADATA_MAX_AGE_MS = 5_000

_MALFORMED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "galaxy:events:malformed-record")


class HandlerRetriesExhausted(RuntimeError):
    """A record failed `max_attempts` times and no `on_give_up` hook was given."""

    def __init__(self, record: ConsumerRecord, attempts: int, error: BaseException) -> None:
        super().__init__(
            f"{record.topic}[{record.partition}]@{record.offset} failed {attempts} times: {error!r}"
        )
        self.record = record
        self.attempts = attempts
        self.error = error


def malformed_record_id(record: ConsumerRecord) -> uuid.UUID:
    """The inbox key of an undecodable record: its position and a digest of its bytes."""
    digest = hashlib.sha256(record.value or b"").hexdigest()
    return uuid.uuid5(
        _MALFORMED_NAMESPACE, f"{record.topic}/{record.partition}/{record.offset}/{digest}"
    )


class IdempotentConsumer:
    """Consume `topics` in consumer group `group_id`, applying each event exactly once.

    Run as `task = asyncio.create_task(consumer.run())`; stop with `await consumer.stop()`.

    `consumer_options` are passed to AIOKafkaConsumer (for example shorter
    `session_timeout_ms` in tests); `enable_auto_commit` and
    `auto_offset_reset` are fixed. `poll_timeout` (seconds) bounds how long a
    poll waits and so how fast `stop()` returns when idle.
    """

    def __init__(
        self,
        topics: str | Iterable[str],
        *,
        group_id: str,
        bootstrap_servers: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: sa.Table,
        handler: Handler,
        on_malformed: MalformedHandler | None = None,
        on_give_up: GiveUpHandler | None = None,
        max_attempts: int | None = None,
        retry_backoff: float = 0.2,
        max_retry_backoff: float = 10.0,
        poll_timeout: float = 0.2,
        max_poll_records: int = 100,
        consumer_options: Mapping[str, Any] | None = None,
        create_topics: bool = True,
        partitions: int = DEFAULT_PARTITIONS,
        replication_factor: int = 1,
        commit_timeout: float = 5.0,
        commit_retry_interval: float = 5.0,
    ) -> None:
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        if not self.topics:
            raise ValueError("IdempotentConsumer needs at least one topic")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None: retry forever)")
        self.group_id = group_id
        self.bootstrap_servers = bootstrap_servers
        self.sessions = sessions
        self.inbox = inbox
        self.handler = handler
        self.on_malformed = on_malformed
        self.on_give_up = on_give_up
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.max_retry_backoff = max_retry_backoff
        self.poll_timeout = poll_timeout
        self.max_poll_records = max_poll_records
        self._consumer_options = dict(consumer_options or {})
        self.create_topics = create_topics
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.commit_timeout = commit_timeout
        self.commit_retry_interval = commit_retry_interval

        # Counters, for tests and metrics.
        self.applied_count = 0
        self.duplicate_count = 0
        self.malformed_count = 0
        self.failure_count = 0
        self.given_up_count = 0

        self._consumer: AIOKafkaConsumer | None = None
        self._attempts: dict[tuple[TopicPartition, int], int] = {}
        self._paused_until: dict[TopicPartition, float] = {}
        #: Per partition: the offset still to commit, and the group generation it was read in.
        self._uncommitted: dict[TopicPartition, tuple[int, GroupGeneration | None]] = {}
        # Bumped on every rebalance; offsets of records fetched under an older
        # assignment are never committed (after a broker that lost its storage
        # comes back, they would point past records that were never read).
        self._epoch = 0
        self._batch_epoch = 0
        # The group generation a batch was fetched in; its offsets are committed in that
        # generation only (see `_commit_in_generation`).
        self._batch_generation: GroupGeneration | None = None
        self._commit_blocked_until: dict[TopicPartition, float] = {}
        self._stopping = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._log = log.bind(group=group_id, topics=self.topics)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        if self._running:
            raise RuntimeError("this consumer is already running")
        self._running = True
        try:
            starts = 0
            while not self._stopping.is_set():
                consumer = await self._start_consumer()
                if consumer is None:
                    return
                self._consumer = consumer
                lost = await self._consume(consumer)
                if not lost:
                    await self._flush_commits(consumer, force=True)
                    return
                # The broker lost its storage: nothing read from the old log is worth
                # committing to the new one, and the next member starts from what it holds.
                starts += 1
                self._log.warning(
                    "topics vanished from the broker (it lost its storage?); starting over",
                    topics=lost,
                )
                self._consumer = None
                self._uncommitted.clear()
                self._commit_blocked_until.clear()
                self._paused_until.clear()
                self._attempts.clear()
                self._epoch += 1
                await _quietly(consumer.stop())
                await self._pause(self._backoff(starts))
        finally:
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                await _quietly(consumer.stop())  # leaves the group
            self._done.set()

    async def stop(self) -> None:
        """Finish the record in hand, leave the group, return when `run()` has returned."""
        self._stopping.set()
        if self._running:
            await self._done.wait()

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    def _new_consumer(self) -> AIOKafkaConsumer:
        options: dict[str, Any] = {
            "client_id": f"galaxy-consumer-{self.group_id}",
            "max_poll_records": self.max_poll_records,
            # The group assigns the partitions its leader's metadata shows, and only a metadata
            # refresh that shows another partition count makes it rebalance; the refresh also
            # shows a topic a broker lost (see the module doc). aiokafka's default is 5 minutes.
            "metadata_max_age_ms": METADATA_MAX_AGE_MS,
        }
        options.update(self._consumer_options)
        options.update(enable_auto_commit=False, auto_offset_reset="earliest")
        consumer = AIOKafkaConsumer(
            group_id=self.group_id,
            bootstrap_servers=self.bootstrap_servers,
            **options,
        )
        consumer.subscribe(topics=self.topics, listener=_RebalanceListener(self))
        return consumer

    def _on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._epoch += 1
        gone = set(revoked)
        for tp in gone:
            # Their next owner (maybe us again) starts from the last committed offset.
            self._uncommitted.pop(tp, None)
            self._commit_blocked_until.pop(tp, None)
            self._paused_until.pop(tp, None)
        # Retry counts belong to the assignment that is gone: whoever owns the partition next
        # gives its records a full `max_attempts` (an offset may even name another record by
        # then, after a memory-storage broker restart), and nothing of it lingers here.
        for position in [p for p in self._attempts if p[0] in gone]:
            del self._attempts[position]

    def _on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._epoch += 1

    async def _start_consumer(self) -> AIOKafkaConsumer | None:
        attempt = 0
        while not self._stopping.is_set():
            consumer = self._new_consumer()
            try:
                if self.create_topics:
                    # Before subscribing: the subscription's metadata requests would otherwise
                    # let the broker auto-create the topics with its default partition count.
                    await ensure_topics(
                        self.bootstrap_servers,
                        self.topics,
                        partitions=self.partitions,
                        replication_factor=self.replication_factor,
                        client_id=f"galaxy-consumer-admin-{self.group_id}",
                    )
                await consumer.start()
                return consumer
            except Exception as exc:  # noqa: BLE001 - the broker may be down; keep trying
                attempt += 1
                await _quietly(consumer.stop())
                self._log.warning("consumer could not start; retrying", error=repr(exc))
                await self._pause(self._backoff(attempt))
        return None

    # -- the loop ------------------------------------------------------------------------------

    async def _consume(self, consumer: AIOKafkaConsumer) -> list[str]:
        """Apply records until stopped ([]), or until topics it was reading vanish (those)."""
        failures = 0
        seen: set[str] = set()
        while not self._stopping.is_set():
            shown = {topic for topic in self.topics if consumer.partitions_for_topic(topic)}
            seen |= shown
            if lost := sorted(seen - shown):
                return lost
            self._resume_due(consumer)
            await self._flush_commits(consumer)
            try:
                batches = await consumer.getmany(timeout_ms=self._poll_timeout_ms())
                failures = 0
            except ConsumerStoppedError:
                return []
            except Exception as exc:  # noqa: BLE001 - broker trouble: back off and poll again
                failures += 1
                self._log.warning("poll failed; retrying", error=repr(exc))
                await self._pause(self._backoff(failures))
                continue
            self._batch_epoch = epoch = self._epoch
            self._batch_generation = group_generation(consumer)
            for tp, records in batches.items():
                for record in records:
                    if self._stopping.is_set():
                        return []  # uncommitted records come again after a restart
                    if self._epoch != epoch:
                        break  # rebalanced: the new assignment fetches from committed offsets
                    if not await self._process(consumer, tp, record):
                        break  # seeked back: the rest of this partition comes again
        return []

    async def _process(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, record: ConsumerRecord
    ) -> bool:
        """Apply one record; True to go on with the partition, False after seeking back."""
        position = (tp, record.offset)
        try:
            await self._apply(record)
        except Exception as exc:
            attempts = self._attempts.get(position, 0) + 1
            self._attempts[position] = attempts
            self.failure_count += 1
            self._log.warning(
                "event handler failed; will retry the record",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                attempt=attempts,
                error=repr(exc),
                exc_info=exc,
            )
            if self.max_attempts is not None and attempts >= self.max_attempts:
                if self.on_give_up is None:
                    raise HandlerRetriesExhausted(record, attempts, exc) from exc
                try:
                    await self._give_up(record, exc)
                except Exception as hook_exc:  # noqa: BLE001 - keep the record, try again later
                    self._log.error("on_give_up failed; will retry", error=repr(hook_exc))
                    self._retry_later(consumer, tp, record.offset, self.max_retry_backoff)
                    return False
                self._attempts.pop(position, None)
                await self._commit(consumer, tp, record.offset + 1)
                return True
            self._retry_later(consumer, tp, record.offset, self._backoff(attempts))
            return False
        self._attempts.pop(position, None)
        await self._commit(consumer, tp, record.offset + 1)
        return True

    async def _apply(self, record: ConsumerRecord) -> None:
        try:
            envelope = unpack(record.value)
        except MalformedEvent as exc:
            await self._apply_malformed(record, exc, malformed_record_id(record))
            return
        event_id = uuid.UUID(envelope.event_id)
        try:
            async with transaction(self.sessions) as session:
                if not await self._record_inbox(session, event_id, record):
                    self.duplicate_count += 1
                    self._log.debug("event already applied; skipped", event_id=str(event_id))
                    return
                await self.handler(session, envelope, record)
            self.applied_count += 1
        except MalformedEvent as exc:
            # The handler found the payload unusable: deterministic, so not retried.
            await self._apply_malformed(record, exc, event_id)

    async def _apply_malformed(
        self, record: ConsumerRecord, error: MalformedEvent, inbox_id: uuid.UUID
    ) -> None:
        async with transaction(self.sessions) as session:
            if not await self._record_inbox(session, inbox_id, record):
                return
            if self.on_malformed is not None:
                await self.on_malformed(session, record, error)
            else:
                self._log.error(
                    "malformed event record; no on_malformed hook, offset advanced",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(error),
                )
        self.malformed_count += 1

    async def _give_up(self, record: ConsumerRecord, error: BaseException) -> None:
        assert self.on_give_up is not None
        try:
            envelope: EventEnvelope | None = unpack(record.value)
            inbox_id = uuid.UUID(envelope.event_id)
        except MalformedEvent:
            envelope, inbox_id = None, malformed_record_id(record)
        async with transaction(self.sessions) as session:
            if await self._record_inbox(session, inbox_id, record):
                await self.on_give_up(session, envelope, record, error)
        self.given_up_count += 1
        self._log.error(
            "gave up on event record after retries",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=repr(error),
        )

    async def _record_inbox(
        self, session: AsyncSession, event_id: uuid.UUID, record: ConsumerRecord
    ) -> bool:
        """Insert the inbox row; False if it already existed (already applied)."""
        statement = (
            pg_insert(self.inbox)
            .values(
                consumer_group=self.group_id,
                event_id=event_id,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
            .returning(self.inbox.c.event_id)
        )
        return (await session.execute(statement)).first() is not None

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Commit `offset` for `tp` (called only after the record's transaction committed).

        A commit is bounded by `commit_timeout`. After a failure the partition's
        offsets are only remembered, and committed again at most every
        `commit_retry_interval` seconds (and on stop), so a broker that refuses
        commits slows nothing down; the inbox makes any resulting redelivery harmless.
        """
        if self._epoch != self._batch_epoch:
            return  # fetched under an assignment that is gone; the inbox covers a redelivery
        self._uncommitted[tp] = (offset, self._batch_generation)
        if self._commit_blocked_until.get(tp, 0.0) > time.monotonic():
            return
        await self._commit_pending(consumer, tp)

    async def _commit_pending(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        pending = self._uncommitted.get(tp)
        if pending is None:
            return
        offset, generation = pending
        try:
            committed = await asyncio.wait_for(
                _commit_in_generation(consumer, tp, offset, generation), self.commit_timeout
            )
        except IllegalStateError:
            # Revoked by a rebalance: its new owner starts from the last committed offset.
            self._uncommitted.pop(tp, None)
            self._commit_blocked_until.pop(tp, None)
            return
        except Exception as exc:  # noqa: BLE001 - the inbox makes a redelivery harmless
            self._commit_blocked_until[tp] = time.monotonic() + self.commit_retry_interval
            self._log.warning(
                "offset commit failed; will retry, the record may be redelivered and skipped",
                topic=tp.topic,
                partition=tp.partition,
                offset=offset,
                error=repr(exc),
            )
            return
        if not committed:
            self._log.info(
                "offset not committed: the group generation it was read in is gone "
                "(a rejoin follows; the new assignment starts from the committed offsets)",
                topic=tp.topic,
                partition=tp.partition,
                offset=offset,
            )
        if self._uncommitted.get(tp) == pending:
            del self._uncommitted[tp]
        self._commit_blocked_until.pop(tp, None)

    async def _flush_commits(self, consumer: AIOKafkaConsumer, *, force: bool = False) -> None:
        """Retry deferred commits that are due (all of them, once, when stopping)."""
        now = time.monotonic()
        for tp in list(self._uncommitted):
            if force or self._commit_blocked_until.get(tp, 0.0) <= now:
                await self._commit_pending(consumer, tp)

    # -- retry plumbing ----------------------------------------------------------------------

    def _retry_later(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, delay: float
    ) -> None:
        try:
            consumer.seek(tp, offset)
            consumer.pause(tp)
        except Exception as exc:  # noqa: BLE001 - revoked meanwhile: its new owner starts
            self._log.info("partition no longer assigned", partition=str(tp), error=repr(exc))
            return  # from the committed offset, which is before this record
        self._paused_until[tp] = time.monotonic() + delay

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        for tp, until in list(self._paused_until.items()):
            if until <= now:
                del self._paused_until[tp]
                try:
                    consumer.resume(tp)
                except Exception as exc:  # noqa: BLE001 - revoked meanwhile
                    self._log.debug("partition to resume is no longer assigned", error=repr(exc))

    def _poll_timeout_ms(self) -> int:
        timeout = self.poll_timeout
        if self._paused_until:
            timeout = min(timeout, max(0.0, min(self._paused_until.values()) - time.monotonic()))
        return max(1, int(timeout * 1000))

    def _backoff(self, attempt: int) -> float:
        return min(self.retry_backoff * 2 ** max(0, attempt - 1), self.max_retry_backoff)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


#: A consumer group generation as the coordinator knows this member: (generation id, member id).
GroupGeneration = tuple[int, str]


def group_generation(consumer: AIOKafkaConsumer) -> GroupGeneration | None:
    """The generation this consumer is a member of, or None while it is not a member.

    aiokafka resets it (generation -1, no member id) as soon as the broker answers a heartbeat
    or a commit with "unknown member" (a broker that lost its storage, an expired session),
    and keeps the old assignment until the rejoin revokes it. aiokafka has no public accessor.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    generation = getattr(coordinator, "generation", -1)
    member_id = getattr(coordinator, "member_id", "")
    if generation is None or generation < 0 or not member_id:
        return None
    return generation, member_id


async def _commit_in_generation(
    consumer: AIOKafkaConsumer,
    tp: TopicPartition,
    offset: int,
    generation: GroupGeneration | None,
) -> bool:
    """Commit `offset` for `tp` in `generation` (one attempt); False, sending nothing, if the
    consumer is no longer a member of that generation.

    Not `consumer.commit`: it sends the generation current at send time and retries
    retriable errors with whatever generation is current then. After a broker restart that
    lost the group, that is generation -1 with no member id: a "no group member" commit,
    which Kafka and Tansu store for a group without members. An offset read at a position
    of the old log would then survive the rejoin, and the new assignment would start past
    records of the new log nobody has read. So the generation is checked right before the
    request is built (in the same step of the event loop), and a failed attempt is left to
    the caller's retry, which checks again.
    """
    if generation is None:
        return False
    subscription = consumer._subscription.subscription  # noqa: SLF001 - see above
    assignment = None if subscription is None else subscription.assignment
    if assignment is None or tp not in assignment.tps:
        raise IllegalStateError(f"Partition {tp} is not assigned")
    coordinator = consumer._coordinator  # noqa: SLF001
    await coordinator.ensure_coordinator_known()
    async with coordinator._commit_lock:  # noqa: SLF001 - as consumer.commit does
        if group_generation(consumer) != generation or not assignment.active:
            return False
        # Builds the request from the coordinator's generation before its first await.
        await coordinator._do_commit_offsets(assignment, {tp: OffsetAndMetadata(offset, "")})  # noqa: SLF001
    return True


class _RebalanceListener(ConsumerRebalanceListener):
    def __init__(self, owner: IdempotentConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._owner._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._owner._on_assigned(assigned)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as exc:  # noqa: BLE001
        log.debug("ignored error during cleanup", error=repr(exc))
