"""The idempotent consumer across a restart of a broker that lost its storage (Tansu, memory).

After such a restart the consumer still holds its fetch positions from the old log, and the
broker's group has no member: the first offset commit is refused (unknown member), aiokafka
resets its generation to -1, and until the rejoin a commit goes out as a "no group member"
commit, which the broker stores (Kafka and Tansu accept those from manually assigned
consumers). An offset computed from a stale position, committed that way, survived the
rebalance: the new assignment started past records of the new log nobody had read.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError
from aiokafka.protocol.metadata import MetadataRequest
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import IdempotentConsumer, new_envelope, pack, partition_counts
from galaxy_kit.events.consumer import METADATA_MAX_AGE_MS
from galaxy_kit.events.testing import committed_offsets, create_topic, wait_until

PARTITIONS = 3
#: Auth's production timing (a heartbeat every 3 s): the fetcher reconnects to the restarted
#: broker long before the group notices it is gone.
PRODUCTION_GROUP_TIMING = {"session_timeout_ms": 10_000, "heartbeat_interval_ms": 3_000,
                           "rebalance_timeout_ms": 10_000}


async def publish_per_partition(bootstrap: str, topic: str, per_partition: int) -> list[uuid.UUID]:
    """`per_partition` events in each partition (explicitly placed), published directly."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    ids = []
    try:
        for partition in range(PARTITIONS):
            for seq in range(per_partition):
                message = AccountLifecycleEvent(user_id=f"u-{partition}", kind="soft_deleted", reason_code=str(seq))
                envelope = new_envelope(message, "kit-tests")
                await producer.send_and_wait(topic, value=pack(envelope), partition=partition)
                ids.append(uuid.UUID(envelope.event_id))
    finally:
        await producer.stop()
    return ids


async def _applied(event_db, ids: list[uuid.UUID]) -> bool:
    counts = await event_db.effect_counts()
    return all(counts.get(i) for i in ids)


async def consuming(event_db, bootstrap: str, topic: str, runner, *, per_partition: int,
                    cls: type[IdempotentConsumer] = IdempotentConsumer):
    """A topic of `PARTITIONS` partitions with `per_partition` events in each, and a consumer of
    group "g" (production heartbeat timing) that has applied them: (consumer, their ids)."""
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    before = await publish_per_partition(bootstrap, topic, per_partition)
    consumer = event_db.consumer(
        bootstrap, topic, group_id="g", cls=cls, consumer_options=PRODUCTION_GROUP_TIMING
    )
    runner.start(consumer)
    await wait_until(lambda: _applied(event_db, before), timeout=30, what="events before the restart")
    return consumer, before


async def restart_losing_storage(kafka_broker) -> None:
    """SIGKILL the memory broker and start it again on its port: every topic, record, group and
    committed offset is gone."""
    await asyncio.to_thread(kafka_broker.kill)
    await asyncio.to_thread(kafka_broker.start)


async def test_after_a_storage_losing_broker_restart_no_stale_offset_skips_new_records(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    """Before the restart the group read 3 records per partition; the new broker's log gets 6
    per partition before the consumer noticed its group is gone (production heartbeat timing:
    the fetcher reconnects within ~100 ms, the heartbeat only every 3 s). The stale position 3
    reads offsets 3..5 of the new log; their offsets must not be committed, or offsets 0..2 are
    never applied."""
    consumer, before = await consuming(
        event_db, kafka_bootstrap, unique_topic, runner, per_partition=3
    )
    await wait_until(
        lambda: _committed_total(kafka_bootstrap, unique_topic, 3 * PARTITIONS), timeout=15,
        what="offsets committed before the restart",
    )

    await restart_losing_storage(kafka_broker)
    await create_topic(kafka_bootstrap, unique_topic, partitions=PARTITIONS)
    after = await publish_per_partition(kafka_bootstrap, unique_topic, 6)

    await wait_until(lambda: _applied(event_db, after), timeout=40, what="every event after the restart")
    assert await event_db.effect_counts() == {i: 1 for i in before + after}
    await wait_until(
        lambda: _committed_total(kafka_bootstrap, unique_topic, 6 * PARTITIONS), timeout=15,
        what="offsets committed on the new broker",
    )


async def _committed_total(bootstrap: str, topic: str, n: int) -> bool:
    return sum((await committed_offsets(bootstrap, "g", topic)).values()) == n


class GroupLostBeforeCommit(IdempotentConsumer):
    """Fault injection: once `lose_group` is set, the next offset commit finds aiokafka's group
    generation reset, as when the restarted broker answered a heartbeat (or another
    partition's commit) with "unknown member" between the record's transaction and its offset
    commit, before the rejoin revoked the assignment."""

    lose_group = False
    commits_after_loss = 0

    async def _commit(self, consumer, tp, offset):
        if self.lose_group and self.commits_after_loss == 0:
            consumer._coordinator.reset_generation()
        if self.lose_group:
            self.commits_after_loss += 1
        await super()._commit(consumer, tp, offset)


async def test_an_offset_read_before_the_group_was_lost_is_not_committed_without_a_member(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    """The race of the test above, made certain: the first record read after the restart (at
    the stale position) is committed while the consumer's generation is reset. Sent anyway,
    the commit is stored by the new broker (a "no group member" commit) and the rejoined
    consumer starts after it: the new log's first records of that partition are never applied."""
    consumer, before = await consuming(
        event_db, kafka_bootstrap, unique_topic, runner, per_partition=3, cls=GroupLostBeforeCommit
    )
    await wait_until(
        lambda: _committed_total(kafka_bootstrap, unique_topic, 3 * PARTITIONS), timeout=15,
        what="offsets committed before the restart",
    )

    await restart_losing_storage(kafka_broker)
    consumer.lose_group = True
    await create_topic(kafka_bootstrap, unique_topic, partitions=PARTITIONS)
    after = await publish_per_partition(kafka_bootstrap, unique_topic, 6)

    await wait_until(lambda: _applied(event_db, after), timeout=40, what="every event after the restart")
    assert await event_db.effect_counts() == {i: 1 for i in before + after}


async def test_a_topic_recreated_with_more_partitions_is_read_on_every_partition(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    """A client outside Galaxy (here the test, allowing auto-creation) recreates the topic with
    the broker's default partition count (Tansu: 4), not the kit's 3, after the group rejoined
    while the topic was missing and was assigned nothing (Tansu then keeps handing the member
    that empty assignment). A record in any of the 4 partitions must still be applied: the
    consumer, whose topic vanished from its metadata, starts over as a new member."""
    consumer, before = await consuming(
        event_db, kafka_bootstrap, unique_topic, runner, per_partition=1, cls=CountsAssignments
    )
    assert consumer.assignments == 1

    await restart_losing_storage(kafka_broker)
    # The group notices the lost broker and rejoins while the topic is missing.
    await wait_until(lambda: consumer.assignments >= 2, timeout=30, what="the group to rejoin")
    auto_created = await auto_create_topic(kafka_bootstrap, unique_topic)
    assert auto_created > PARTITIONS, "the broker's default count is no longer larger; rewrite the test"
    after = await publish_to(kafka_bootstrap, unique_topic, range(auto_created))

    await wait_until(lambda: _applied(event_db, after), timeout=40, what="a record in every partition")
    assert await event_db.effect_counts() == {i: 1 for i in before + after}


class CountsAssignments(IdempotentConsumer):
    """Observes rebalances: `assignments` grows each time the group hands partitions over."""

    assignments = 0

    def _on_assigned(self, assigned):
        super()._on_assigned(assigned)
        self.assignments += 1


async def auto_create_topic(bootstrap: str, topic: str) -> int:
    """Ask for `topic`'s metadata letting the broker create it, as any client's metadata request
    does (the consumer's own may have done it already); returns the topic's partition count."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        request = MetadataRequest([topic], allow_auto_topic_creation=True)
        response = await client.send(client.get_random_node(), request)
        [entry] = response.to_object()["topics"]
        return len(entry["partitions"])
    finally:
        await client.close()


async def publish_to(bootstrap: str, topic: str, partitions) -> list[uuid.UUID]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    ids = []
    try:
        for partition in partitions:
            message = AccountLifecycleEvent(user_id=f"u-{partition}", kind="soft_deleted", reason_code="0")
            envelope = new_envelope(message, "kit-tests")
            await producer.send_and_wait(topic, value=pack(envelope), partition=partition)
            ids.append(uuid.UUID(envelope.event_id))
    finally:
        await producer.stop()
    return ids


async def test_no_galaxy_client_recreates_a_topic_the_broker_lost(
    event_db, kafka_broker, kafka_bootstrap, unique_topic, runner
):
    """After a storage-losing restart, neither a producer's metadata lookups nor the running
    consumer's refreshes may let the broker recreate the topic with its own default count
    (Tansu: 4): the topic comes back only as the kit creates it (the consumer starting over),
    with 3 partitions, and every event published to it is applied."""
    consumer, before = await consuming(
        event_db, kafka_bootstrap, unique_topic, runner, per_partition=1
    )

    await restart_losing_storage(kafka_broker)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=False, request_timeout_ms=2_000
    )
    await producer.start()
    try:
        with pytest.raises((UnknownTopicOrPartitionError, KafkaTimeoutError)):
            await producer.send_and_wait(unique_topic, b"x")
    finally:
        await producer.stop()
    # Two of the consumer's metadata refreshes (every 5 s) later.
    await asyncio.sleep(2 * METADATA_MAX_AGE_MS / 1000 + 1)
    assert await _partition_counts(kafka_bootstrap, unique_topic) in ({}, {unique_topic: PARTITIONS})

    await create_topic(kafka_bootstrap, unique_topic, partitions=PARTITIONS)
    after = await publish_per_partition(kafka_bootstrap, unique_topic, 2)
    await wait_until(lambda: _applied(event_db, after), timeout=40, what="every event after the restart")
    assert await _partition_counts(kafka_bootstrap, unique_topic) == {unique_topic: PARTITIONS}
    assert await event_db.effect_counts() == {i: 1 for i in before + after}


async def _partition_counts(bootstrap: str, topic: str) -> dict[str, int]:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        return await partition_counts(client, [topic])
    finally:
        await client.close()
