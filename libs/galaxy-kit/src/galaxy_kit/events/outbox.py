"""Transactional outbox: `enqueue` in the caller's transaction, `OutboxRelay` publishes.

Producing side of every event:

    async with transaction(sessions) as session:
        ...change state...
        await enqueue(session, table=outbox, topic=TOPIC, key=user_id,
                      message=AccountLifecycleEvent(...), producer="account")

The outbox row commits with the state change, or not at all. A relay (one
asyncio task per service process, `asyncio.create_task(relay.run())`) then:

1. becomes the single active relay of the outbox: it holds a Postgres
   session-level advisory lock (`pg_try_advisory_lock`, key derived from the
   table's schema and name) on a dedicated connection; replicas that do not get
   it retry every `lock_retry_interval` seconds, so exactly one relay publishes
   and per-key order is kept. The lock dies with the connection, so a crashed
   relay's lock is released by Postgres;
2. claims a batch of unpublished, unparked rows in id order (on the lock's
   connection: if the lock is lost, so is the claim);
3. publishes them (acks="all", no idempotent producer, key = the row's key,
   value = the envelope bytes, headers `event_id`/`event_type`) and awaits the
   broker's acks. Rows of the same (topic, key) are sent one after another and
   a failure stops that key's chain for this round, so a later event of a key
   never overtakes an earlier one that failed;
4. marks the acknowledged rows published in a second short transaction; failed
   rows stay unpublished with `last_error` updated and are retried in the next
   round (never dropped). After a round that published nothing at all the
   relay backs off exponentially (`retry_backoff`..`max_retry_backoff`): the
   broker is down or refusing everything; while some rows go out it does not
   pause, so one bad row cannot slow the others down.

Attempts and dead letters: `attempts` counts the publishes of a row that got a
verdict on the row itself: the broker's ack, or a refusal of this row
(`ROW_REFUSALS`: the record is too large, corrupt, has a bad timestamp or an
invalid topic name; or its topic does not exist and the broker would not
create it; or an unexpected non-Kafka error while sending it). The same bytes
get the same answer however often they are sent. Every other failure is broker
trouble, not the row's fault, and is only recorded in `last_error`: an
unreachable broker, timeouts, leader moves, authorization (a deployment fixes
it for every row at once), a topic lost in a broker restart. A row whose
`attempts` reaches `max_attempts` (default `DEFAULT_MAX_ATTEMPTS` = 5) without
being published is *parked*, a dead letter: it stays in the table,
unpublished, with its `last_error`; the relay logs `outbox_row_parked` at
error level, counts it in `galaxy_outbox_dead_letters_total{outbox}`, and
never claims it again, so rows behind it flow. The gauge
`galaxy_outbox_parked_rows{outbox}` holds the number of dead letters in the
table (recounted on taking over, after each parking and every minute while
idle). `parked_rows()` lists an outbox's dead letters and `requeue_parked()`
gives them a fresh cap (after the cause is fixed).

Per-key order and dead letters: a row that failed and is not parked holds the
later rows of its (topic, key) back. Once it is parked, the later
rows of its key are published: a parked row is one the broker keeps refusing on
its own merits, so holding its key would turn one bad event into the loss of
every later event of that aggregate (a deletion after a refused profile
change would never reach anyone). Consumers therefore see a gap in that key's
sequence; a requeued dead letter is published after the rows that overtook it.

Delivery is at-least-once: a crash between 3 and 4 publishes the same rows
again, with the same event ids, and consumers deduplicate by event id
(`IdempotentConsumer`).

Order: rows are published in id order among committed rows. Ids are taken at
insert time, so two transactions that write events for the same key must be
serialized by the service (a row lock on the aggregate, which domain code
takes anyway); then id order is commit order.

Wake-up: the relay polls every `poll_interval` seconds and also LISTENs on a
channel that `enqueue` NOTIFYs (Postgres delivers the notification only when
the enqueuing transaction commits), so events usually leave within
milliseconds.

Topics: before each batch the relay looks its topics up (a metadata request
that does not auto-create) and creates missing ones with `partitions`
partitions ("already exists" is fine; with `create_topics=False` a missing
topic is a publish failure instead). After the acks it looks them up again.
Both checks exist because a broker that lost its storage (Tansu's memory
storage after a restart) acknowledges writes to topics it no longer has and
drops them; rows whose topic is gone after the acks count as failed and are
published again. (A restart between the second check and the next batch is
the memory broker losing acknowledged data, which no producer can prevent.)

`await relay.stop()` lets the in-flight batch finish (publish and mark),
releases the lock and returns once `run()` has returned.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)
from google.protobuf.message import Message
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from galaxy_kit.events.envelope import EventEnvelope, event_id_of, new_envelope, pack
from galaxy_kit.events.topics import DEFAULT_PARTITIONS, ensure_topics, missing_topics
from galaxy_kit.settings import DEFAULT_OUTBOX_MAX_ATTEMPTS

log = structlog.get_logger(__name__)

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "ROW_REFUSALS",
    "OutboxRelay",
    "OutboxRow",
    "ParkedRow",
    "PublishResult",
    "TopicUnavailable",
    "enqueue",
    "enqueue_envelope",
    "is_broker_trouble",
    "notify_channel",
    "parked_rows",
    "relay_lock_key",
    "requeue_parked",
]

MAX_ERROR_TEXT = 2000
#: Refusals of one row (see "Attempts and dead letters") before it is parked as a dead letter.
#: A refusal on the row's own merits does not change on retry, so a few tries are enough; they
#: leave room for a topic or an ACL an operator is creating at that moment.
DEFAULT_MAX_ATTEMPTS = DEFAULT_OUTBOX_MAX_ATTEMPTS

PUBLISHED_TOTAL = Counter(
    "galaxy_outbox_published_total", "Outbox rows acknowledged by the broker", ["outbox"]
)
FAILURES_TOTAL = Counter(
    "galaxy_outbox_publish_failures_total",
    "Failed publishes of outbox rows; kind is broker (not counted against the cap) or row",
    ["outbox", "kind"],
)
DEAD_LETTERS_TOTAL = Counter(
    "galaxy_outbox_dead_letters_total",
    "Outbox rows parked as dead letters after max_attempts refusals",
    ["outbox"],
)
PARKED_ROWS = Gauge(
    "galaxy_outbox_parked_rows",
    "Outbox dead letters in the table, as the active relay last counted them",
    ["outbox"],
)
#: How often an idle relay recounts the dead letters (an operator may have requeued some).
PARKED_RECOUNT_SECONDS = 60.0


def _qualified_name(table: sa.Table) -> str:
    return f"{table.schema or 'public'}.{table.name}"


def relay_lock_key(table: sa.Table) -> int:
    """The advisory-lock key of an outbox: a stable signed 64-bit hash of schema.table."""
    digest = hashlib.blake2b(
        f"galaxy-outbox-relay:{_qualified_name(table)}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def notify_channel(table: sa.Table) -> str:
    """The LISTEN/NOTIFY channel of an outbox (at most 63 bytes, a Postgres identifier)."""
    name = f"galaxy_outbox.{_qualified_name(table)}"
    if len(name.encode()) > 63:
        name = "galaxy_outbox." + hashlib.blake2b(name.encode(), digest_size=16).hexdigest()
    return name


async def enqueue(
    session: AsyncSession,
    *,
    table: sa.Table,
    topic: str,
    key: str | uuid.UUID | None,
    message: Message,
    producer: str,
    notify: bool = True,
) -> uuid.UUID:
    """Add an event to the outbox in the session's current transaction; returns its event id.

    `message` is the payload (for example an `AccountLifecycleEvent`); it is
    wrapped in a fresh EventEnvelope. Nothing is published unless and until
    the caller's transaction commits.
    """
    envelope = new_envelope(message, producer)
    return await enqueue_envelope(
        session, table=table, topic=topic, key=key, envelope=envelope, notify=notify
    )


async def enqueue_envelope(
    session: AsyncSession,
    *,
    table: sa.Table,
    topic: str,
    key: str | uuid.UUID | None,
    envelope: EventEnvelope,
    notify: bool = True,
) -> uuid.UUID:
    """Like `enqueue` for an envelope built by the caller (its event id must be a UUID)."""
    event_id = event_id_of(envelope)
    await session.execute(
        sa.insert(table).values(
            event_id=event_id,
            topic=topic,
            key=None if key is None else str(key),
            event_type=envelope.event_type,
            payload=pack(envelope),
        )
    )
    if notify:
        # Delivered to the relay's LISTEN only when this transaction commits.
        await session.execute(sa.select(sa.func.pg_notify(notify_channel(table), "")))
    return event_id


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: uuid.UUID
    topic: str
    key: str | None
    event_type: str
    payload: bytes


@dataclass(slots=True)
class PublishResult:
    """What one publish round achieved: acknowledged rows, and failed rows with their error.

    `refused` holds the ids of failed rows whose failure counts against the attempt cap
    (the broker refused the row itself); the other failures were broker trouble.
    """

    published: list[OutboxRow] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    refused: set[int] = field(default_factory=set)

    def fail(
        self, row: OutboxRow, error: BaseException | str, *, refused: bool | None = None
    ) -> None:
        """Record a failure; `refused` defaults to "not broker trouble" (`is_broker_trouble`)."""
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.failed[row.id] = text[:MAX_ERROR_TEXT]
        if refused is None:
            refused = isinstance(error, BaseException) and not is_broker_trouble(error)
        if refused:
            self.refused.add(row.id)
        else:
            self.refused.discard(row.id)


class TopicUnavailable(RuntimeError):
    """The broker does not have the topic (and the relay may not or could not create it)."""


#: Kafka errors that judge the record itself (the broker's answer, or the client's check before
#: sending); any other Kafka error is about the broker or the deployment.
ROW_REFUSALS: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    UnsupportedForMessageFormatError,
)


def is_broker_trouble(error: BaseException) -> bool:
    """True when a failed publish says nothing about the row; such failures never park a row.

    A whitelist, not aiokafka's `retriable` flag: a send during an outage raises
    KafkaTimeoutError, which is not marked retriable, and authorization errors are not
    retriable either but are fixed by the deployment for every row at once. A non-Kafka
    exception other than OSError (timeouts, refused or reset connections) is a fault in
    handling this very row, so it counts.
    """
    if isinstance(error, ROW_REFUSALS):
        return False
    return isinstance(error, (KafkaError, OSError))


@dataclass(frozen=True, slots=True)
class ParkedRow:
    """An outbox dead letter, as `parked_rows` shows it to an operator (no payload)."""

    id: int
    event_id: uuid.UUID
    topic: str
    key: str | None
    event_type: str
    created_at: Any
    attempts: int
    last_error: str | None


def _parked(table: sa.Table, max_attempts: int) -> Any:
    return sa.and_(table.c.published_at.is_(None), table.c.attempts >= max_attempts)


async def parked_rows(
    engine: AsyncEngine, table: sa.Table, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> list[ParkedRow]:
    """The outbox's dead letters, oldest first (what `max_attempts` refusals parked).

    The same as `SELECT id, event_id, topic, key, event_type, created_at, attempts, last_error
    FROM <schema>.outbox WHERE published_at IS NULL AND attempts >= <max_attempts> ORDER BY id`.
    """
    t = table
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(
                t.c.id, t.c.event_id, t.c.topic, t.c.key, t.c.event_type, t.c.created_at,
                t.c.attempts, t.c.last_error,
            )
            .where(_parked(t, max_attempts))
            .order_by(t.c.id)
        )
        return [ParkedRow(*row) for row in result]


async def requeue_parked(
    engine: AsyncEngine,
    table: sa.Table,
    ids: Iterable[int] | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Give parked rows (all, or those of `ids`) a fresh attempt cap; returns how many.

    For after the cause is fixed (the topic created, the broker's size limit raised). The
    relay publishes them in its next round, after the later rows of their key that already
    went out. `last_error` is kept until the row is published.
    """
    t = table
    statement = sa.update(t).where(_parked(t, max_attempts)).values(attempts=0)
    if ids is not None:
        statement = statement.where(t.c.id.in_(list(ids)))
    async with engine.begin() as conn:
        result = await conn.execute(statement)
        await conn.execute(sa.select(sa.func.pg_notify(notify_channel(table), "")))
        return result.rowcount


ProducerFactory = Callable[[], AIOKafkaProducer]


class OutboxRelay:
    """Publishes one outbox table to Kafka; run exactly as `task = create_task(relay.run())`.

    Give either `bootstrap_servers` (the relay builds an AIOKafkaProducer with
    acks="all", enable_idempotence=False and `producer_options` on top) or a
    `producer_factory` returning an unstarted producer configured the same way.

    Parameters (seconds unless noted): `batch_size` rows per claim;
    `poll_interval` between empty claims (LISTEN/NOTIFY usually wakes it
    sooner); `lock_retry_interval` between attempts of a non-leader to take the
    lock; `retry_backoff`..`max_retry_backoff` the exponential back-off after a
    round that published nothing or a lost database connection; `max_attempts`
    (a count) the refusals after which a row is parked as a dead letter (left
    unset, it is `DEFAULT_MAX_ATTEMPTS`, and the service runner applies
    `GALAXY_OUTBOX_MAX_ATTEMPTS`: `cap_from_settings`); `topics` to create on
    start (topics seen in rows are created on first use too) with `partitions`
    and `replication_factor`.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table: sa.Table,
        *,
        bootstrap_servers: str | None = None,
        producer_factory: ProducerFactory | None = None,
        producer_options: Mapping[str, Any] | None = None,
        topics: Iterable[str] = (),
        create_topics: bool = True,
        partitions: int = DEFAULT_PARTITIONS,
        replication_factor: int = 1,
        batch_size: int = 100,
        poll_interval: float = 0.2,
        lock_retry_interval: float = 1.0,
        retry_backoff: float = 0.2,
        max_retry_backoff: float = 5.0,
        max_attempts: int | None = None,
        listen: bool = True,
        name: str | None = None,
    ) -> None:
        if producer_factory is None and bootstrap_servers is None:
            raise ValueError("OutboxRelay needs bootstrap_servers or a producer_factory")
        if create_topics and bootstrap_servers is None:
            raise ValueError("creating topics needs bootstrap_servers (or pass create_topics=False)")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.engine = engine
        self.table = table
        self.bootstrap_servers = bootstrap_servers
        self._producer_factory = producer_factory or self._default_producer
        self._producer_options = dict(producer_options or {})
        self._topics = set(topics)
        self._create_topics = create_topics
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lock_retry_interval = lock_retry_interval
        self.retry_backoff = retry_backoff
        self.max_retry_backoff = max_retry_backoff
        #: True when the caller left the cap to the service's settings (galaxy_kit.service).
        self.cap_from_settings = max_attempts is None
        self.max_attempts = DEFAULT_MAX_ATTEMPTS if max_attempts is None else max_attempts
        self.listen = listen
        self.name = name or _qualified_name(table)
        self.lock_key = relay_lock_key(table)
        self.channel = notify_channel(table)

        self.is_leader = False
        self.published_count = 0
        self.failed_count = 0
        self.parked_count = 0
        self._parked_counted_at = float("-inf")
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._backoff = retry_backoff
        self._log = log.bind(relay=self.name)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Publish until `stop()`; survives database and broker outages (logs and backs off)."""
        if self._running:
            raise RuntimeError("this relay is already running")
        self._running = True
        try:
            while not self._stopping.is_set():
                try:
                    await self._lead_when_elected()
                except Exception as exc:  # noqa: BLE001 - a relay must outlive outages
                    self._log.warning("outbox relay error; retrying", error=repr(exc))
                    await self._pause(self._next_backoff())
        finally:
            await self._close_producer()
            self._done.set()

    async def stop(self) -> None:
        """Finish the in-flight batch, release the lock and return when `run()` has returned."""
        self._stopping.set()
        self._wakeup.set()
        if self._running:
            await self._done.wait()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- leadership ----------------------------------------------------------------------------

    async def _lead_when_elected(self) -> None:
        conn = await self._acquire_lock()
        if conn is None:
            return
        try:
            self.is_leader = True
            self._log.info("outbox relay is the active publisher")
            parked = await self._count_parked(conn)
            if parked:
                self._log.warning("outbox_has_parked_rows", parked=parked)
            if self.listen:
                await self._listen(conn)
            await self._start_producer()
            try:
                await self._ensure_topics(self._topics)
            except Exception as exc:  # noqa: BLE001 - checked again before every batch
                self._log.warning("could not create topics", error=repr(exc))
            await self._publish_loop(conn)
        finally:
            self.is_leader = False
            await self._release_lock(conn)

    async def _acquire_lock(self) -> AsyncConnection | None:
        """A connection holding the relay's advisory lock, or None once stopping."""
        logged = False
        while not self._stopping.is_set():
            conn = await self.engine.connect()
            try:
                async with conn.begin():
                    got = (
                        await conn.execute(sa.select(sa.func.pg_try_advisory_lock(self.lock_key)))
                    ).scalar_one()
            except BaseException:
                await _discard(conn)
                raise
            if got:
                return conn
            await conn.close()
            if not logged:
                self._log.info("another relay publishes this outbox; standing by")
                logged = True
            await self._pause(self.lock_retry_interval)
        return None

    async def _release_lock(self, conn: AsyncConnection) -> None:
        # Closing the server connection releases the session-level lock and the LISTEN,
        # even when the connection is broken; never hand a locked connection back to the pool.
        await _discard(conn)

    async def _listen(self, conn: AsyncConnection) -> None:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if driver is None or not hasattr(driver, "add_listener"):
            return
        await driver.add_listener(self.channel, self._on_notify)

    def _on_notify(self, *_args: Any) -> None:
        self._wakeup.set()

    # -- the publish loop ----------------------------------------------------------------------

    async def _publish_loop(self, conn: AsyncConnection) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()  # before claiming, so a NOTIFY during the claim is not lost
            rows = await self.claim_batch(conn)
            if not rows:
                if time.monotonic() - self._parked_counted_at > PARKED_RECOUNT_SECONDS:
                    await self._count_parked(conn)
                await self._idle()
                continue
            result = await self.publish_batch(rows)
            await self.mark_batch(conn, result)
            if result.published:
                self._backoff = self.retry_backoff
            elif result.failed:
                # Nothing went out: the broker is down or refuses everything we have.
                await self._pause(self._next_backoff())

    async def claim_batch(self, conn: AsyncConnection) -> list[OutboxRow]:
        """The oldest unpublished rows that are not parked, in id order (at most `batch_size`)."""
        t = self.table
        async with conn.begin():
            result = await conn.execute(
                sa.select(t.c.id, t.c.event_id, t.c.topic, t.c.key, t.c.event_type, t.c.payload)
                .where(t.c.published_at.is_(None), t.c.attempts < self.max_attempts)
                .order_by(t.c.id)
                .limit(self.batch_size)
            )
            return [OutboxRow(*row) for row in result]

    async def _count_parked(self, conn: AsyncConnection) -> int:
        """Refresh the `galaxy_outbox_parked_rows` gauge from the table (restarts do not reset it)."""
        t = self.table
        async with conn.begin():
            count = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(t).where(_parked(t, self.max_attempts))
                )
            ).scalar_one()
        PARKED_ROWS.labels(self.name).set(count)
        self._parked_counted_at = time.monotonic()
        return count

    async def publish_batch(self, rows: Sequence[OutboxRow]) -> PublishResult:
        """Send rows and await the broker's acks; one sequential chain per (topic, key).

        Publishing only goes to topics the broker shows (created first if
        missing; rows of a topic it still does not have are refused, the others
        go on), and the topics are looked up again after the acks: a broker
        that lost its storage (Tansu's memory storage after a restart)
        acknowledges writes to topics it no longer has and drops them, so such
        rows count as failed (broker trouble) and are published again.
        """
        result = PublishResult()
        chains: dict[tuple[str, str | None, int], list[OutboxRow]] = {}
        for row in rows:
            # Rows without a key carry no order promise: each is its own chain.
            chain_key = (row.topic, row.key, 0 if row.key is not None else row.id)
            chains.setdefault(chain_key, []).append(row)
        try:
            missing = await self._unavailable_topics({row.topic for row in rows})
        except Exception as exc:  # noqa: BLE001 - the broker did not answer: not the rows' fault
            for chain in chains.values():
                result.fail(chain[0], exc, refused=False)
            return result
        sendable = []
        for chain in chains.values():
            topic = chain[0].topic
            if topic in missing:
                # The broker answered, and has no such topic even after we asked it to create
                # one (or may not create it): a refusal of these rows, counted against the cap.
                unavailable = TopicUnavailable(f"broker has no topic {topic}")
                result.fail(chain[0], unavailable, refused=True)
            else:
                sendable.append(chain)
        await asyncio.gather(*(self._send_chain(chain, result) for chain in sendable))
        if result.published:
            try:
                vanished = await missing_topics(self._client(), {r.topic for r in result.published})
            except Exception as exc:  # noqa: BLE001 - cannot confirm: publish again (at-least-once)
                vanished, reason = {r.topic for r in result.published}, exc
            else:
                reason = TopicUnavailable("topic vanished while publishing (broker lost its storage?)")
            if vanished:
                kept = []
                for row in result.published:
                    if row.topic in vanished:
                        result.fail(row, reason, refused=False)
                    else:
                        kept.append(row)
                result.published = kept
        result.published.sort(key=lambda row: row.id)
        return result

    async def _unavailable_topics(self, topics: set[str]) -> set[str]:
        """The topics the broker still lacks after creating missing ones; raises if it is down."""
        missing = await missing_topics(self._client(), topics)
        if missing and self._create_topics:
            await self._ensure_topics(missing)
            missing = await missing_topics(self._client(), missing)
        return missing

    def _client(self) -> Any:
        assert self._producer is not None
        return self._producer.client

    async def _send_chain(self, chain: list[OutboxRow], result: PublishResult) -> None:
        producer = self._producer
        assert producer is not None
        for row in chain:
            try:
                delivery = await producer.send(
                    row.topic,
                    value=row.payload,
                    key=None if row.key is None else row.key.encode(),
                    headers=[
                        ("event_id", str(row.event_id).encode()),
                        ("event_type", row.event_type.encode()),
                    ],
                )
                await delivery
            except Exception as exc:  # noqa: BLE001 - recorded on the row, retried later
                result.fail(row, exc)
                return  # later rows of this key wait for this one
            result.published.append(row)

    async def mark_batch(self, conn: AsyncConnection, result: PublishResult) -> None:
        """Second short transaction: published rows get published_at, failed rows an error;
        a refusal counts an attempt, and the row that reaches `max_attempts` is parked."""
        t = self.table
        parked = []
        async with conn.begin():
            if result.published:
                await conn.execute(
                    sa.update(t)
                    .where(t.c.id.in_([row.id for row in result.published]))
                    .values(published_at=sa.func.now(), attempts=t.c.attempts + 1)
                )
            for row_id, error in result.failed.items():
                refused = row_id in result.refused
                attempts = (
                    await conn.execute(
                        sa.update(t)
                        .where(t.c.id == row_id)
                        .values(attempts=t.c.attempts + (1 if refused else 0), last_error=error)
                        .returning(t.c.attempts)
                    )
                ).scalar_one()
                if refused and attempts >= self.max_attempts:
                    parked.append((row_id, attempts, error))
        self.published_count += len(result.published)
        self.failed_count += len(result.failed)
        PUBLISHED_TOTAL.labels(self.name).inc(len(result.published))
        refusals = len(result.refused)
        if refusals:
            FAILURES_TOTAL.labels(self.name, "row").inc(refusals)
        if len(result.failed) > refusals:
            FAILURES_TOTAL.labels(self.name, "broker").inc(len(result.failed) - refusals)
        if result.failed:
            self._log.warning(
                "outbox publish failed; will retry",
                failed=len(result.failed),
                refused=refusals,
                published=len(result.published),
                error=next(iter(result.failed.values())),
            )
        for row_id, attempts, error in parked:
            self.parked_count += 1
            DEAD_LETTERS_TOTAL.labels(self.name).inc()
            self._log.error(
                "outbox_row_parked",
                detail="the broker refused this row max_attempts times; it is kept as a dead "
                "letter and later rows go on (galaxy_kit.events.parked_rows lists them)",
                row_id=row_id,
                attempts=attempts,
                error=error,
            )
        if parked:
            await self._count_parked(conn)

    # -- Kafka plumbing ------------------------------------------------------------------------

    def _default_producer(self) -> AIOKafkaProducer:
        options: dict[str, Any] = {
            "client_id": f"galaxy-outbox-relay-{self.name}",
            "request_timeout_ms": 10_000,
            "retry_backoff_ms": 100,
            "linger_ms": 0,
        }
        options.update(self._producer_options)
        # Fixed: every write is acknowledged by all in-sync replicas, and the broker
        # transactions / idempotent producer are never used (the outbox is the guarantee).
        options.update(acks="all", enable_idempotence=False)
        return AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, **options)

    async def _start_producer(self) -> None:
        if self._producer is not None:
            return
        producer = self._producer_factory()
        try:
            await producer.start()
        except BaseException:
            await _quietly(producer.stop())
            raise
        self._producer = producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _quietly(producer.stop())

    async def _ensure_topics(self, topics: Iterable[str]) -> None:
        wanted = set(topics)
        if not wanted or not self._create_topics:
            return
        assert self.bootstrap_servers is not None
        await ensure_topics(
            self.bootstrap_servers,
            wanted,
            partitions=self.partitions,
            replication_factor=self.replication_factor,
            request_timeout_ms=int(self._producer_options.get("request_timeout_ms", 10_000)),
            client_id=f"galaxy-outbox-admin-{self.name}",
        )

    # -- waiting -------------------------------------------------------------------------------

    def _next_backoff(self) -> float:
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.max_retry_backoff)
        return delay

    async def _idle(self) -> None:
        if self._stopping.is_set():
            return
        try:
            await asyncio.wait_for(self._wakeup.wait(), self.poll_interval)
        except TimeoutError:
            pass

    async def _pause(self, seconds: float) -> None:
        """Sleep, but return at once when stop() is called."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


async def _discard(conn: AsyncConnection) -> None:
    await _quietly(conn.invalidate())
    await _quietly(conn.close())


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as exc:  # noqa: BLE001
        log.debug("ignored error during cleanup", error=repr(exc))
