"""Outbox and relay against a real Postgres and a real broker (Tansu)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.db import transaction
from galaxy_kit.events import (
    OutboxRelay,
    OutboxRow,
    PublishResult,
    enqueue,
    is_broker_trouble,
    parked_rows,
    requeue_parked,
    unpack,
    unpack_payload,
)
from galaxy_kit.events.testing import create_topic, read_topic, wait_until
from prometheus_client import REGISTRY

PRODUCER = "kit-tests"


def lifecycle(user_id: str, seq: int) -> AccountLifecycleEvent:
    return AccountLifecycleEvent(user_id=user_id, kind="soft_deleted", reason_code=str(seq))


async def enqueue_many(event_db, topic: str, keys: list[str], per_key: int) -> list[uuid.UUID]:
    """per_key events for each key, interleaved, one transaction each; seq increases per key."""
    ids = []
    for seq in range(per_key):
        for key in keys:
            async with transaction(event_db.sessions) as session:
                ids.append(
                    await enqueue(
                        session, table=event_db.outbox, topic=topic, key=key,
                        message=lifecycle(key, seq), producer=PRODUCER,
                    )
                )
    return ids


class SimulatedRelayCrash(BaseException):
    """Stands for the relay process dying. A BaseException, so the relay's own
    retry loop (which catches Exception) cannot absorb it: the task dies, and
    its dedicated connection (with the advisory lock) is closed, as in a crash."""


class CrashBetweenPublishAndMark(OutboxRelay):
    """Fault injection: the relay dies after the broker acknowledged a batch but
    before the second transaction marks the rows published."""

    crashed_after: PublishResult | None = None

    async def mark_batch(self, conn, result):
        self.crashed_after = result
        raise SimulatedRelayCrash("relay died between publish and mark")


def per_key_sequences(records) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        payload = unpack_payload(unpack(record.value), AccountLifecycleEvent)
        out.setdefault(record.key.decode(), []).append(int(payload.reason_code))
    return out


async def test_rolled_back_event_is_never_published_committed_one_exactly_once(
    event_db, kafka_bootstrap, unique_topic, runner
):
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with transaction(event_db.sessions) as session:
            lost = await enqueue(
                session, table=event_db.outbox, topic=unique_topic, key="u-1",
                message=lifecycle("u-1", 0), producer=PRODUCER,
            )
            raise Rollback  # the state change failed: the event goes with it
    async with transaction(event_db.sessions) as session:
        kept = await enqueue(
            session, table=event_db.outbox, topic=unique_topic, key="u-1",
            message=lifecycle("u-1", 1), producer=PRODUCER,
        )

    relay = event_db.relay(kafka_bootstrap)
    runner.start(relay)
    await wait_until(lambda: _published(event_db, kept), what="publish")

    records = await read_topic(kafka_bootstrap, unique_topic, at_least=1)
    assert [unpack(r.value).event_id for r in records] == [str(kept)]
    assert str(lost) not in {unpack(r.value).event_id for r in records}
    record = records[0]
    assert record.key == b"u-1"
    assert dict(record.headers) == {
        "event_id": str(kept).encode(),
        "event_type": b"galaxy.events.v1.AccountLifecycleEvent",
    }
    row = (await event_db.rows(sa.select(event_db.outbox).where(event_db.outbox.c.event_id == kept)))[0]
    assert row.published_at is not None and row.attempts == 1 and row.last_error is None
    assert await event_db.scalar(sa.select(sa.func.count()).select_from(event_db.outbox)) == 1

    # Still exactly once a while later: the relay does not publish marked rows again.
    await asyncio.sleep(0.3)
    assert len(await read_topic(kafka_bootstrap, unique_topic)) == 1
    await relay.stop()


async def _published(event_db, event_id) -> bool:
    t = event_db.outbox
    return bool(
        await event_db.scalar(
            sa.select(sa.func.count()).select_from(t).where(t.c.event_id == event_id, t.c.published_at.is_not(None))
        )
    )


async def test_notify_wakes_the_relay_without_waiting_for_the_poll(event_db, kafka_bootstrap, unique_topic, runner):
    relay = event_db.relay(kafka_bootstrap, poll_interval=30.0, topics=[unique_topic])
    runner.start(relay)
    await wait_until(lambda: relay.is_leader, what="leadership")
    await asyncio.sleep(0.1)  # the relay is now idle in its 30 s poll wait
    async with transaction(event_db.sessions) as session:
        event_id = await enqueue(
            session, table=event_db.outbox, topic=unique_topic, key="u", message=lifecycle("u", 0), producer=PRODUCER
        )
    await wait_until(lambda: _published(event_db, event_id), timeout=3.0, what="NOTIFY wake-up")
    await relay.stop()


async def test_relay_crash_between_publish_and_mark_republishes_and_consumer_applies_once(
    event_db, kafka_bootstrap, unique_topic, runner
):
    ids = await enqueue_many(event_db, unique_topic, ["u-1", "u-2", "u-3"], per_key=3)

    crashing = event_db.relay(kafka_bootstrap, cls=CrashBetweenPublishAndMark)
    task = runner.start(crashing)
    with pytest.raises(SimulatedRelayCrash):
        await asyncio.wait_for(task, 15)
    assert crashing.crashed_after is not None and len(crashing.crashed_after.published) == len(ids)
    assert await event_db.unpublished() == len(ids)  # the broker has them, the outbox does not know
    assert len(await read_topic(kafka_bootstrap, unique_topic, at_least=len(ids))) == len(ids)

    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="crash-test")
    runner.start(consumer)
    relay = event_db.relay(kafka_bootstrap)  # the replacement relay, e.g. after a restart
    runner.start(relay)

    await wait_until(lambda: _all_published(event_db), what="republish")
    await wait_until(
        lambda: consumer.applied_count + consumer.duplicate_count == 2 * len(ids), what="consumer drained"
    )
    assert len(await read_topic(kafka_bootstrap, unique_topic, at_least=2 * len(ids))) == 2 * len(ids)
    assert await event_db.unpublished() == 0
    assert await event_db.effect_counts() == {event_id: 1 for event_id in ids}
    assert consumer.applied_count == len(ids) and consumer.duplicate_count == len(ids)


async def test_two_relays_on_one_outbox_only_one_publishes_no_duplicates_order_kept(
    event_db, kafka_bootstrap, unique_topic, runner
):
    keys = ["u-1", "u-2", "u-3", "u-4"]
    first_ids = await enqueue_many(event_db, unique_topic, keys, per_key=5)
    relays = [event_db.relay(kafka_bootstrap, batch_size=7, name=f"r{i}") for i in range(2)]
    for relay in relays:
        runner.start(relay)

    await wait_until(lambda: _all_published(event_db), what="everything published")
    leaders = [r for r in relays if r.is_leader]
    assert len(leaders) == 1
    leader, standby = leaders[0], next(r for r in relays if r is not leaders[0])
    assert leader.published_count == len(first_ids) and standby.published_count == 0

    # Enqueue while both run, then fail over: the standby takes the lock and carries on.
    more_ids = await enqueue_many(event_db, unique_topic, keys, per_key=2)
    await wait_until(lambda: _all_published(event_db), what="second round")
    await leader.stop()
    later_ids = []
    for seq in range(7, 9):
        later_ids += await enqueue_many_seq(event_db, unique_topic, keys, seq)
    await wait_until(lambda: standby.is_leader, what="fail-over")
    await wait_until(lambda: _all_published(event_db), what="published by the new leader")
    assert standby.published_count == len(later_ids)

    total = len(first_ids) + len(more_ids) + len(later_ids)
    records = await read_topic(kafka_bootstrap, unique_topic, at_least=total)
    event_ids = [unpack(r.value).event_id for r in records]
    assert len(event_ids) == total and len(set(event_ids)) == total  # no duplicates
    assert set(event_ids) == {str(i) for i in first_ids + more_ids + later_ids}
    sequences = per_key_sequences(records)
    assert sequences == {key: [0, 1, 2, 3, 4, 0, 1, 7, 8] for key in keys}


async def enqueue_many_seq(event_db, topic, keys, seq) -> list[uuid.UUID]:
    ids = []
    for key in keys:
        async with transaction(event_db.sessions) as session:
            ids.append(
                await enqueue(
                    session, table=event_db.outbox, topic=topic, key=key, message=lifecycle(key, seq), producer=PRODUCER
                )
            )
    return ids


async def _all_published(event_db) -> bool:
    return await event_db.unpublished() == 0


async def test_broker_restart_with_pending_rows_they_are_published_after_restart(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    # A cap of 2: the outage lasts many rounds, and broker trouble must not use the cap up.
    relay = event_db.relay(kafka_bootstrap, topics=[unique_topic], max_attempts=2)
    runner.start(relay)
    await wait_until(lambda: relay.is_leader, what="leadership")
    before = await enqueue_many(event_db, unique_topic, ["u-1"], per_key=1)
    await wait_until(lambda: _all_published(event_db), what="first publish")

    # Off the event loop (the relay keeps running meanwhile); Tansu drains connected clients
    # for about 5 s on SIGTERM, so after 1 s it is killed: a broker crash, memory storage lost.
    await asyncio.to_thread(kafka_broker.stop, 1.0)
    try:
        pending = await enqueue_many(event_db, unique_topic, ["u-1", "u-2"], per_key=3)
        t = event_db.outbox

        async def failure_recorded() -> bool:
            return bool(await event_db.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.last_error.is_not(None))))

        await wait_until(failure_recorded, timeout=20, what="a failed publish attempt to be recorded")
        assert await event_db.unpublished() == len(pending)  # kept, not dropped
    finally:
        await asyncio.to_thread(kafka_broker.start)

    await wait_until(lambda: _all_published(event_db), timeout=30, what="publish after the broker restart")
    failed = await event_db.rows(sa.select(t.c.attempts, t.c.last_error).where(t.c.last_error.is_not(None)))
    # Failed (recorded), then published; the outage counted no attempt and parked nothing.
    assert failed and all(attempts == 1 for attempts, _ in failed)
    assert relay.parked_count == 0
    # The broker kept nothing from before its restart (memory storage); the pending rows are all there.
    records = await read_topic(kafka_bootstrap, unique_topic, at_least=len(pending))
    assert {unpack(r.value).event_id for r in records} == {str(i) for i in pending}
    assert str(before[0]) not in {unpack(r.value).event_id for r in records}
    assert per_key_sequences(records) == {"u-1": [0, 1, 2], "u-2": [0, 1, 2]}


async def test_stop_returns_promptly_and_releases_the_lock(event_db, kafka_bootstrap, unique_topic, runner):
    relay = event_db.relay(kafka_bootstrap, poll_interval=30.0, topics=[unique_topic])
    task = runner.start(relay)
    await wait_until(lambda: relay.is_leader, what="leadership")
    await asyncio.wait_for(relay.stop(), 5)
    assert task.done() and not relay.is_leader
    async with event_db.engine.connect() as conn:
        got = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(relay.lock_key)))).scalar_one()
        assert got is True
        await conn.execute(sa.select(sa.func.pg_advisory_unlock(relay.lock_key)))


async def test_relay_and_consumer_across_a_broker_restart_nothing_lost_nothing_twice(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    keys = ["u-1", "u-2", "u-3"]
    relay = event_db.relay(kafka_bootstrap, topics=[unique_topic])
    consumer = event_db.consumer(kafka_bootstrap, unique_topic, group_id="across-restart")
    runner.start(relay)
    runner.start(consumer)
    before = await enqueue_many(event_db, unique_topic, keys, per_key=2)
    await wait_until(lambda: _applied(event_db, len(before)), what="events before the restart")

    await asyncio.to_thread(kafka_broker.stop, 1.0)
    try:
        during = await enqueue_many(event_db, unique_topic, keys, per_key=2)
    finally:
        await asyncio.to_thread(kafka_broker.start)
    after = await enqueue_many_seq(event_db, unique_topic, keys, 2)

    everything = before + during + after
    await wait_until(lambda: _applied(event_db, len(everything)), timeout=30, what="events after the restart")
    assert await event_db.effect_counts() == {i: 1 for i in everything}
    assert await event_db.unpublished() == 0


async def _applied(event_db, n: int) -> bool:
    return sum((await event_db.effect_counts()).values()) >= n


async def test_broker_restart_while_idle_next_event_is_not_acknowledged_into_the_void(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    """Tansu (memory storage) acknowledges writes to a topic it lost in a restart and drops them;
    the relay must look the topic up (and recreate it) before publishing, not trust its cache."""
    relay = event_db.relay(kafka_bootstrap, topics=[unique_topic])
    runner.start(relay)
    await enqueue_many(event_db, unique_topic, ["u-1"], per_key=1)
    await wait_until(lambda: _all_published(event_db), what="first publish")

    await asyncio.to_thread(kafka_broker.stop, 1.0)
    await asyncio.to_thread(kafka_broker.start)  # the relay saw no failure: it was idle

    after = await enqueue_many_seq(event_db, unique_topic, ["u-1"], 1)
    await wait_until(lambda: _all_published(event_db), timeout=20, what="publish after the restart")
    records = await read_topic(kafka_bootstrap, unique_topic, at_least=1, timeout=5)
    assert [unpack(r.value).event_id for r in records] == [str(after[0])]


async def test_relay_survives_losing_its_lock_connection(event_db, kafka_bootstrap, unique_topic, runner):
    """The database drops the relay's dedicated connection (lock and LISTEN go with it):
    the relay takes the lock again on a new connection and carries on."""
    relay = event_db.relay(kafka_bootstrap, topics=[unique_topic])
    runner.start(relay)
    first = await enqueue_many(event_db, unique_topic, ["u-1"], per_key=1)
    await wait_until(lambda: _all_published(event_db), what="first publish")

    lock_holder = sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    (pid,) = [row.pid for row in await event_db.rows(lock_holder)]
    await event_db.scalar(sa.select(sa.func.pg_terminate_backend(pid)))

    second = await enqueue_many_seq(event_db, unique_topic, ["u-1"], 1)
    await wait_until(lambda: _all_published(event_db), what="publish after reconnecting")
    await wait_until(lambda: relay.is_leader, what="leadership again")
    new_pids = [row.pid for row in await event_db.rows(lock_holder)]
    assert len(new_pids) == 1 and new_pids[0] != pid
    records = await read_topic(kafka_bootstrap, unique_topic, at_least=2)
    assert [unpack(r.value).event_id for r in records] == [str(first[0]), str(second[0])]


def parked_gauge(relay_name: str) -> float | None:
    return REGISTRY.get_sample_value("galaxy_outbox_parked_rows", {"outbox": relay_name})


def dead_letters_counted(relay_name: str) -> float:
    return REGISTRY.get_sample_value("galaxy_outbox_dead_letters_total", {"outbox": relay_name}) or 0.0


async def test_a_row_the_broker_always_refuses_is_parked_after_the_cap_and_later_rows_flow(
    event_db, kafka_bootstrap, unique_topic, runner
):
    """A row too large for the broker is refused every time. After max_attempts refusals it is
    parked (kept, unpublished, with its error; logged and counted) and is never claimed again:
    the later rows of the same key and of other keys are published, in their order."""
    await enqueue_many(event_db, unique_topic, ["u-1", "u-2"], per_key=1)  # seq 0
    async with transaction(event_db.sessions) as session:
        poison = await enqueue(
            session, table=event_db.outbox, topic=unique_topic, key="u-1",
            # Over the producer's 1 MiB request limit: MessageSizeTooLargeError, not retriable.
            message=AccountLifecycleEvent(user_id="u-1", kind="soft_deleted", reason_code="9" * 1_200_000),
            producer=PRODUCER,
        )
    await enqueue_many_seq(event_db, unique_topic, ["u-1", "u-2"], 2)

    relay = event_db.relay(kafka_bootstrap, max_attempts=3, name=f"parking-{unique_topic}")
    counted_before = dead_letters_counted(relay.name)
    runner.start(relay)

    async def only_the_poison_left() -> bool:
        t = event_db.outbox
        left = await event_db.rows(sa.select(t.c.event_id).where(t.c.published_at.is_(None)))
        return [event_id for (event_id,) in left] == [poison]

    await wait_until(only_the_poison_left, what="every other row published")
    await wait_until(lambda: relay.parked_count == 1, what="the refused row parked")
    records = await read_topic(kafka_bootstrap, unique_topic, at_least=4)
    assert per_key_sequences(records) == {"u-1": [0, 2], "u-2": [0, 2]}
    assert str(poison) not in {unpack(r.value).event_id for r in records}

    t = event_db.outbox
    (row,) = await event_db.rows(sa.select(t).where(t.c.event_id == poison))
    assert row.published_at is None and row.attempts == 3
    assert "MessageSizeTooLarge" in row.last_error
    assert dead_letters_counted(relay.name) == counted_before + 1
    parked = await parked_rows(event_db.engine, t, max_attempts=3)
    assert [(p.event_id, p.key, p.attempts) for p in parked] == [(poison, "u-1", 3)]
    assert "MessageSizeTooLarge" in parked[0].last_error

    # Parked means never claimed again: a later row goes out, the dead letter stays untouched.
    (newest,) = await enqueue_many_seq(event_db, unique_topic, ["u-1"], 3)
    await wait_until(lambda: _published(event_db, newest), what="a row enqueued after the parking")
    (row,) = await event_db.rows(sa.select(t.c.attempts).where(t.c.event_id == poison))
    assert row.attempts == 3 and relay.parked_count == 1

    assert parked_gauge(relay.name) == 1

    # An operator requeues it: it gets a fresh cap (and, still too large, is parked again).
    assert await requeue_parked(event_db.engine, t, max_attempts=3) == 1
    await wait_until(lambda: relay.parked_count == 2, what="the requeued row tried again and parked")
    assert dead_letters_counted(relay.name) == counted_before + 2
    assert [p.event_id for p in await parked_rows(event_db.engine, t, max_attempts=3)] == [poison]

    # A relay that takes over (a restart, another replica) reports the dead letter it finds.
    await relay.stop()
    successor = event_db.relay(kafka_bootstrap, max_attempts=3, name=f"successor-{unique_topic}")
    runner.start(successor)
    await wait_until(lambda: parked_gauge(successor.name) == 1, what="the successor counted the dead letter")
    assert successor.parked_count == 0


async def test_a_topic_the_broker_will_not_have_parks_its_rows_not_the_others(
    event_db, kafka_bootstrap, unique_topic, runner
):
    """With topic creation left to the deployment, a row for a topic nobody created is refused;
    rows of the topics that exist are published meanwhile, and the refused ones get parked."""
    await create_topic(kafka_bootstrap, unique_topic)
    missing_topic = f"{unique_topic}-never-created"
    async with transaction(event_db.sessions) as session:
        lost_cause = await enqueue(
            session, table=event_db.outbox, topic=missing_topic, key="u-1",
            message=lifecycle("u-1", 0), producer=PRODUCER,
        )
    fine = await enqueue_many(event_db, unique_topic, ["u-1", "u-2"], per_key=2)

    relay = event_db.relay(kafka_bootstrap, max_attempts=2, create_topics=False)
    runner.start(relay)
    await wait_until(lambda: relay.parked_count == 1, what="the row of the missing topic parked")
    await wait_until(lambda: all_published(event_db, fine), what="the rows of the existing topic")
    parked = await parked_rows(event_db.engine, event_db.outbox, max_attempts=2)
    assert [(p.event_id, p.topic) for p in parked] == [(lost_cause, missing_topic)]
    assert "TopicUnavailable" in parked[0].last_error


async def all_published(event_db, ids) -> bool:
    t = event_db.outbox
    return not await event_db.scalar(
        sa.select(sa.func.count()).select_from(t).where(t.c.event_id.in_(ids), t.c.published_at.is_(None))
    )


@pytest.mark.parametrize(
    ("error", "counts"),
    [
        (MessageSizeTooLargeError(), True),  # the record itself: same answer every time
        (RuntimeError("bug while sending this row"), True),
        (KafkaTimeoutError(), False),  # what a send raises while the broker is down
        (KafkaConnectionError("refused"), False),
        (TimeoutError(), False),
        (NotLeaderForPartitionError(), False),
        (TopicAuthorizationFailedError(), False),  # the deployment's to fix, for every row
    ],
)
def test_only_refusals_of_the_row_itself_count_against_the_cap(error, counts):
    assert is_broker_trouble(error) is not counts
    result = PublishResult()
    row = OutboxRow(1, uuid.uuid4(), "t", "k", "x", b"")
    result.fail(row, error)
    assert (row.id in result.refused) is counts and row.id in result.failed


def test_the_service_runner_gives_relays_the_configured_cap_unless_they_chose_one():
    from galaxy_kit.db import create_engine
    from galaxy_kit.events import DEFAULT_MAX_ATTEMPTS, outbox_table
    from galaxy_kit.service import apply_event_settings
    from galaxy_kit.settings import ServiceSettings

    engine = create_engine("postgresql://nobody@127.0.0.1:1/none")  # never connected
    outbox = outbox_table(sa.MetaData(schema="svc"))
    left_to_settings = OutboxRelay(engine, outbox, bootstrap_servers="127.0.0.1:1")
    chosen = OutboxRelay(engine, outbox, bootstrap_servers="127.0.0.1:1", max_attempts=9)
    assert left_to_settings.max_attempts == DEFAULT_MAX_ATTEMPTS == 5

    apply_event_settings([left_to_settings, chosen], ServiceSettings(outbox_max_attempts=2))
    assert (left_to_settings.max_attempts, chosen.max_attempts) == (2, 9)
