"""Create Kafka topics that are missing, with a chosen partition count.

Both the outbox relay (before publishing) and the idempotent consumer (before
subscribing) call this, so whichever starts first creates the topic with the
intended partitions instead of leaving it to the broker's auto-creation
defaults. "Already exists" is success.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import aiokafka.client
import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

log = structlog.get_logger(__name__)

__all__ = ["DEFAULT_PARTITIONS", "ensure_topics", "missing_topics", "partition_counts"]

DEFAULT_PARTITIONS = 3
TOPIC_ALREADY_EXISTS = 36  # Kafka error code

# aiokafka's client builds its metadata requests from this module-level name (bootstrap and
# every refresh); the request's own default allows auto-creation (see the module doc).
aiokafka.client.MetadataRequest = functools.partial(  # type: ignore[misc]
    MetadataRequest, allow_auto_topic_creation=False
)


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int = DEFAULT_PARTITIONS,
    replication_factor: int = 1,
    request_timeout_ms: int = 10_000,
    client_id: str = "galaxy-topic-admin",
) -> set[str]:
    """Create the missing topics; returns those that now exist. Raises if the broker is unreachable."""
    wanted = sorted(set(topics))
    if not wanted:
        return set()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id=client_id, request_timeout_ms=request_timeout_ms
    )
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(topic, partitions, replication_factor) for topic in wanted]
        )
    finally:
        try:
            await admin.close()
        except Exception as exc:  # noqa: BLE001
            log.debug("ignored error closing the admin client", error=repr(exc))
    existing = set()
    for entry in _topic_errors(response):
        topic, code, message = entry
        if code in (0, TOPIC_ALREADY_EXISTS):
            existing.add(topic)
        else:
            log.warning("topic creation failed", topic=topic, code=code, error=message)
    return existing


async def partition_counts(client: AIOKafkaClient, topics: Iterable[str]) -> dict[str, int]:
    """The partition count of each of `topics` the broker has, asked without auto-creation.

    `client` is a started aiokafka client (for example `producer.client`); a topic the broker
    lacks is left out. Raises if no broker answers.
    """
    wanted = sorted(set(topics))
    if not wanted:
        return {}
    node_id = client.get_random_node()
    if node_id is None:
        raise KafkaConnectionError("no broker known to ask for topic metadata")
    response = await client.send(node_id, MetadataRequest(wanted, allow_auto_topic_creation=False))
    return {
        entry["topic"]: len(entry["partitions"])
        for entry in response.to_object()["topics"]
        if entry["topic"] in wanted and entry["error_code"] == 0 and entry["partitions"]
    }


async def missing_topics(client: AIOKafkaClient, topics: Iterable[str]) -> set[str]:
    """Which of `topics` the broker does not have (see `partition_counts`)."""
    wanted = set(topics)
    return wanted - set(await partition_counts(client, wanted))


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    out = []
    for entry in response.topic_errors:
        out.append((entry[0], entry[1], entry[2] if len(entry) > 2 else None))
    return out
