"""Helpers for tests of event plumbing against a real broker (used by the kit's and services' tests).

Generic, no fixtures and no pytest dependency: read a whole topic, publish raw
records, create a topic, read a group's committed offsets, wait for a condition
with a deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

__all__ = ["committed_offsets", "create_topic", "produce_raw", "read_topic", "wait_until"]


async def wait_until(
    predicate: Callable[[], Awaitable[bool] | bool], *, timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> None:
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(interval)


async def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def produce_raw(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    """Publish raw (key, value) records directly, bypassing the outbox."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, *, at_least: int = 0, timeout: float = 15.0) -> list[ConsumerRecord]:
    """Every record currently in `topic` (all partitions, from the beginning, no group).

    Waits until at least `at_least` records are there; returns them in partition/offset order.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await consumer._client.force_metadata_update()
                partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            records: list[ConsumerRecord] = []
            if tps:
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                ends = await consumer.end_offsets(tps)
                remaining = {tp for tp in tps if ends[tp] > 0}
                while remaining:
                    batch = await consumer.getmany(*remaining, timeout_ms=200)
                    for tp, recs in batch.items():
                        records.extend(recs)
                    for tp in list(remaining):
                        if await consumer.position(tp) >= ends[tp]:
                            remaining.discard(tp)
                    if time.monotonic() > deadline:
                        raise AssertionError(f"could not read {topic} to its end")
            if len(records) >= at_least:
                return sorted(records, key=lambda r: (r.partition, r.offset))
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: {len(records)} records, expected at least {at_least}")
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group_id: str, topic: str) -> dict[TopicPartition, int]:
    """The group's committed offsets on `topic` (partitions without a commit are left out).

    Reads them without joining the group, so it does not disturb running members.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        out = {}
        for partition in sorted(partitions):
            tp = TopicPartition(topic, partition)
            offset = await consumer.committed(tp)
            if offset is not None and offset >= 0:
                out[tp] = offset
        return out
    finally:
        await consumer.stop()
