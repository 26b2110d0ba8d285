"""The idempotent consumer against a real Postgres and a real broker (Tansu)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
from galaxy_kit.events import (
    HandlerRetriesExhausted,
    IdempotentConsumer,
    new_envelope,
    pack,
)
from galaxy_kit.events.testing import committed_offsets, create_topic, produce_raw, wait_until

PRODUCER = "kit-tests"
KEYS = ["u-1", "u-2", "u-3", "u-4"]


def lifecycle_envelope(user_id: str, seq: int):
    return new_envelope(AccountLifecycleEvent(user_id=user_id, kind="soft_deleted", reason_code=str(seq)), PRODUCER)


async def publish_events(bootstrap: str, topic: str, n: int) -> list[uuid.UUID]:
    """n envelopes spread over KEYS (so over the topic's partitions), published directly."""
    envelopes = [lifecycle_envelope(KEYS[i % len(KEYS)], i) for i in range(n)]
    await produce_raw(bootstrap, topic, [(KEYS[i % len(KEYS)].encode(), pack(e)) for i, e in enumerate(envelopes)])
    return [uuid.UUID(e.event_id) for e in envelopes]


async def total_committed(bootstrap: str, group: str, topic: str) -> int:
    return sum((await committed_offsets(bootstrap, group, topic)).values())


class SimulatedConsumerCrash(BaseException):
    """Stands for the consumer process dying (not an Exception: nothing inside may absorb it)."""


class CrashBeforeOffsetCommit(IdempotentConsumer):
    """Fault injection: dies after the database transaction of record number `crash_at`
    committed (effect + inbox row) but before its Kafka offset is committed."""

    def __init__(self, *args, crash_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash_at = crash_at
        self.commits = 0

    async def _commit(self, consumer, tp, offset):
        if self.commits == self.crash_at:
            raise SimulatedConsumerCrash(f"consumer died before committing {tp}@{offset}")
        self.commits += 1
        await super()._commit(consumer, tp, offset)


async def test_crash_between_db_commit_and_offset_commit_is_applied_once(
    event_db, kafka_bootstrap, unique_topic, runner
):
    await create_topic(kafka_bootstrap, unique_topic)
    ids = await publish_events(kafka_bootstrap, unique_topic, 12)

    crashing = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g", cls=CrashBeforeOffsetCommit, crash_at=5)
    task = runner.start(crashing)
    with pytest.raises(SimulatedConsumerCrash):
        await asyncio.wait_for(task, 20)
    assert crashing.applied_count == 6  # five committed fully, the sixth only in the database
    assert len(await event_db.effect_counts()) == 6

    resumed = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    runner.start(resumed)
    await wait_until(lambda: _effects_total(event_db, len(ids)), what="all effects")
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", len(ids), unique_topic), what="offsets committed")
    assert await event_db.effect_counts() == {i: 1 for i in ids}
    assert resumed.duplicate_count == 1  # the sixth record came again and was skipped
    assert resumed.applied_count == len(ids) - 6


async def test_consumer_cancelled_mid_handler_new_one_resumes_none_lost_none_twice(
    event_db, kafka_bootstrap, unique_topic, runner
):
    """The consumer task is cancelled (killed) while a handler is inside its transaction."""
    await create_topic(kafka_bootstrap, unique_topic)
    ids = await publish_events(kafka_bootstrap, unique_topic, 20)
    stuck = asyncio.Event()
    record_handler = event_db.handler("first")
    calls = 0

    async def handler(session, envelope, record):
        nonlocal calls
        calls += 1
        await record_handler(session, envelope, record)  # the effect is written, not yet committed
        if calls == 8:
            stuck.set()
            await asyncio.Event().wait()  # hangs until the task is killed

    first = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g", handler=handler)
    task = runner.start(first)
    await asyncio.wait_for(stuck.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert first.applied_count == 7
    assert sum((await event_db.effect_counts()).values()) == 7  # the 8th rolled back

    second = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g", handler=event_db.handler("second"))
    runner.start(second)
    await wait_until(lambda: _effects_total(event_db, len(ids)), what="all effects")
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", len(ids), unique_topic), what="offsets committed")
    assert await event_db.effect_counts() == {i: 1 for i in ids}
    assert second.applied_count == len(ids) - 7


async def test_handler_error_rolls_back_and_retries_the_same_record(event_db, kafka_bootstrap, unique_topic, runner):
    await create_topic(kafka_bootstrap, unique_topic, partitions=1)  # one partition: a strict order to check
    ids = await publish_events(kafka_bootstrap, unique_topic, 10)
    record_handler = event_db.handler()
    seen: list[uuid.UUID] = []
    failed_once: set[int] = set()

    async def flaky(session, envelope, record):
        seen.append(uuid.UUID(envelope.event_id))
        await record_handler(session, envelope, record)  # written, then rolled back on the raise
        if record.offset in (3, 7) and record.offset not in failed_once:
            failed_once.add(record.offset)
            raise RuntimeError(f"transient failure at offset {record.offset}")

    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g", handler=flaky)
    runner.start(consumer)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", len(ids), unique_topic), what="offsets committed")
    assert await event_db.effect_counts() == {i: 1 for i in ids}
    assert consumer.failure_count == 2 and consumer.applied_count == len(ids)
    # Each failed record was retried before anything after it in its partition.
    assert seen == ids[:4] + ids[3:8] + ids[7:]
    effect_order = [
        row.event_id
        for row in await event_db.rows(sa.select(event_db.effects.c.event_id).order_by(event_db.effects.c.id))
    ]
    assert effect_order == ids


async def test_same_envelope_delivered_twice_is_applied_once(event_db, kafka_bootstrap, unique_topic, runner):
    await create_topic(kafka_bootstrap, unique_topic)
    envelope = lifecycle_envelope("u-1", 0)
    other = lifecycle_envelope("u-1", 1)
    data = pack(envelope)
    await produce_raw(kafka_bootstrap, unique_topic, [(b"u-1", data), (b"u-1", data), (b"u-1", pack(other))])

    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    runner.start(consumer)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 3, unique_topic), what="offsets committed")
    assert await event_db.effect_counts() == {uuid.UUID(envelope.event_id): 1, uuid.UUID(other.event_id): 1}
    assert consumer.applied_count == 2 and consumer.duplicate_count == 1

    # Another consumer group is another reader: it applies the event for itself, once.
    inbox = event_db.inbox
    groups = await event_db.rows(sa.select(inbox.c.consumer_group, sa.func.count()).group_by(inbox.c.consumer_group))
    assert groups == [("g", 2)]


async def test_malformed_records_go_to_on_malformed_once_and_the_offset_advances(
    event_db, kafka_bootstrap, unique_topic, runner
):
    await create_topic(kafka_bootstrap, unique_topic, partitions=1)
    good_before = lifecycle_envelope("u-1", 0)
    wrong_type = new_envelope(RuntimeStatusEvent(game_id="g-1", status="running"), PRODUCER)
    good_after = lifecycle_envelope("u-1", 1)
    await produce_raw(
        kafka_bootstrap,
        unique_topic,
        [
            (b"u-1", pack(good_before)),
            (b"u-1", b"\xff\xfe definitely not an envelope"),  # offset 1: undecodable
            (b"u-1", pack(wrong_type)),  # offset 2: the handler's unpack_payload raises MalformedEvent
            (b"u-1", pack(good_after)),
        ],
    )
    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    runner.start(consumer)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 4, unique_topic), what="offsets committed")

    malformed = await event_db.rows(
        sa.select(event_db.malformed.c.offset, event_db.malformed.c.error).order_by(event_db.malformed.c.offset)
    )
    assert [offset for offset, _ in malformed] == [1, 2]
    assert "not an EventEnvelope" in malformed[0][1]
    assert "expected payload galaxy.events.v1.AccountLifecycleEvent" in malformed[1][1]
    assert await event_db.effect_counts() == {uuid.UUID(good_before.event_id): 1, uuid.UUID(good_after.event_id): 1}
    assert consumer.malformed_count == 2 and consumer.failure_count == 0
    assert await committed_offsets(kafka_bootstrap, "g", unique_topic) == {TopicPartition(unique_topic, 0): 4}
    await consumer.stop()

    # Replaying the whole topic in the same group (offsets reset) calls the hook no more.
    replay = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    await _reset_offsets(kafka_bootstrap, "g", unique_topic)
    runner.start(replay)
    await wait_until(lambda: replay.duplicate_count == 3 and replay.malformed_count == 0 and _inbox_skips(replay), what="replay")
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 4, unique_topic), what="replay committed")
    assert len(await event_db.rows(sa.select(event_db.malformed))) == 2


def _inbox_skips(consumer) -> bool:
    return consumer.applied_count == 0


async def test_retry_limit_without_hook_stops_the_consumer_without_skipping(
    event_db, kafka_bootstrap, unique_topic, runner
):
    await create_topic(kafka_bootstrap, unique_topic, partitions=1)
    await publish_events(kafka_bootstrap, unique_topic, 2)

    async def always_fails(session, envelope, record):
        raise RuntimeError("permanent")

    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g", handler=always_fails, max_attempts=3)
    task = runner.start(consumer)
    with pytest.raises(HandlerRetriesExhausted) as info:
        await asyncio.wait_for(task, 20)
    assert info.value.attempts == 3 and info.value.record.offset == 0
    assert await committed_offsets(kafka_bootstrap, "g", unique_topic) == {}


async def test_retry_limit_with_give_up_hook_records_and_moves_on(event_db, kafka_bootstrap, unique_topic, runner):
    await create_topic(kafka_bootstrap, unique_topic, partitions=1)
    ids = await publish_events(kafka_bootstrap, unique_topic, 3)
    record_handler = event_db.handler()
    given_up = []

    async def fails_on_second(session, envelope, record):
        if record.offset == 1:
            raise RuntimeError("permanent")
        await record_handler(session, envelope, record)

    async def on_give_up(session, envelope, record, error):
        given_up.append((uuid.UUID(envelope.event_id), str(error)))

    consumer = event_db.consumer(
        kafka_bootstrap, unique_topic, group_id="g", handler=fails_on_second, max_attempts=2, on_give_up=on_give_up
    )
    runner.start(consumer)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 3, unique_topic), what="offsets committed")
    assert given_up == [(ids[1], "permanent")]
    assert await event_db.effect_counts() == {ids[0]: 1, ids[2]: 1}
    assert consumer.failure_count == 2 and consumer.given_up_count == 1


async def test_stop_is_clean_and_a_restart_resumes_from_committed_offsets(
    event_db, kafka_bootstrap, unique_topic, runner
):
    await create_topic(kafka_bootstrap, unique_topic)
    first_ids = await publish_events(kafka_bootstrap, unique_topic, 6)
    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    task = runner.start(consumer)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 6, unique_topic), what="first batch")
    await asyncio.wait_for(consumer.stop(), 5)
    assert task.done() and task.exception() is None

    more_ids = await publish_events(kafka_bootstrap, unique_topic, 6)
    again = event_db.consumer(kafka_bootstrap, unique_topic, group_id="g")
    runner.start(again)
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 12, unique_topic), what="second batch")
    assert again.applied_count == 6 and again.duplicate_count == 0  # resumed, not replayed
    assert await event_db.effect_counts() == {i: 1 for i in first_ids + more_ids}


async def _effects_total(event_db, n: int) -> bool:
    return sum((await event_db.effect_counts()).values()) >= n


async def _committed_is(bootstrap: str, group: str, n: int, topic: str) -> bool:
    return await total_committed(bootstrap, group, topic) == n


async def _reset_offsets(bootstrap: str, group: str, topic: str) -> None:
    """Commit offset 0 for the group, as an operator replaying a topic would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: 0})
    finally:
        await consumer.stop()


class CountsAssignments(IdempotentConsumer):
    """Observes rebalances: `assignments` grows each time the group hands partitions over."""

    assignments = 0

    def _on_assigned(self, assigned):
        super()._on_assigned(assigned)
        self.assignments += 1


async def test_revoked_partition_drops_retry_counts_so_its_record_gets_full_attempts_again(
    event_db, kafka_bootstrap, unique_topic, runner
):
    """A record failed twice of max_attempts=3; then a rebalance revokes its partition and hands
    it back. The retry count went with the revoked assignment: the record gets three fresh
    attempts before on_give_up, not one (stale counts would give up early on a record, or, after
    a memory broker restart, on a different record at the same offset)."""
    await create_topic(kafka_bootstrap, unique_topic, partitions=1)
    other_topic = f"{unique_topic}-other"
    await create_topic(kafka_bootstrap, other_topic, partitions=1)
    (event_id,) = await publish_events(kafka_bootstrap, unique_topic, 1)
    calls = 0
    rebalanced = asyncio.Event()
    given_up_after: list[tuple[uuid.UUID, int]] = []

    async def always_fails(session, envelope, record):
        nonlocal calls
        calls += 1
        if calls == 3:
            # Hold the third attempt until the partition was revoked and assigned again.
            await asyncio.wait_for(rebalanced.wait(), 30)
        raise RuntimeError("permanent")

    async def on_give_up(session, envelope, record, error):
        given_up_after.append((uuid.UUID(envelope.event_id), calls))

    consumer = event_db.consumer(
        kafka_bootstrap, unique_topic, group_id="g", cls=CountsAssignments,
        handler=always_fails, max_attempts=3, on_give_up=on_give_up,
    )
    runner.start(consumer)
    await wait_until(lambda: calls == 3, what="two failed attempts, the third in hand")
    assert consumer.assignments == 1 and consumer.given_up_count == 0

    # A second member joins the group (for another topic): the coordinator revokes and
    # reassigns; the partition of our topic comes back to the same consumer.
    member = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id="g", enable_auto_commit=False,
        session_timeout_ms=2000, heartbeat_interval_ms=300, rebalance_timeout_ms=2000,
    )
    member.subscribe([other_topic])
    await member.start()
    try:
        await wait_until(
            lambda: consumer.assignments >= 2 and consumer.assignment == {TopicPartition(unique_topic, 0)},
            timeout=30, what="the partition revoked and assigned back",
        )
        rebalanced.set()
        await wait_until(lambda: consumer.given_up_count == 1, timeout=30, what="give up")
    finally:
        await member.stop()
    # Two attempts before the revoke; the one in flight during it and two more after it.
    assert consumer.assignments == 2, "another rebalance happened meanwhile; counts reset again"
    assert given_up_after == [(event_id, 5)]
    await wait_until(lambda: _committed_is(kafka_bootstrap, "g", 1, unique_topic), what="offset committed")
    assert await event_db.effect_counts() == {}
