"""Event plumbing: envelope helpers, transactional outbox and relay, idempotent consumer.

Plumbing only, no domain rules. See the module docstrings of `outbox` and
`consumer` for the delivery guarantees (at-least-once publishing, exactly-once
effects through the inbox).
"""

from galaxy_kit.events.consumer import (
    GiveUpHandler,
    Handler,
    HandlerRetriesExhausted,
    IdempotentConsumer,
    MalformedHandler,
    malformed_record_id,
)
from galaxy_kit.events.envelope import (
    EventEnvelope,
    MalformedEvent,
    event_id_of,
    new_envelope,
    pack,
    unpack,
    unpack_payload,
)
from galaxy_kit.events.outbox import (
    DEFAULT_MAX_ATTEMPTS,
    ROW_REFUSALS,
    OutboxRelay,
    OutboxRow,
    ParkedRow,
    PublishResult,
    TopicUnavailable,
    enqueue,
    enqueue_envelope,
    is_broker_trouble,
    notify_channel,
    parked_rows,
    relay_lock_key,
    requeue_parked,
)
from galaxy_kit.events.schema import (
    create_event_tables,
    drop_event_tables,
    inbox_table,
    outbox_table,
)
from galaxy_kit.events.topics import DEFAULT_PARTITIONS, ensure_topics, missing_topics

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_PARTITIONS",
    "ROW_REFUSALS",
    "EventEnvelope",
    "GiveUpHandler",
    "Handler",
    "HandlerRetriesExhausted",
    "IdempotentConsumer",
    "MalformedEvent",
    "MalformedHandler",
    "OutboxRelay",
    "OutboxRow",
    "ParkedRow",
    "PublishResult",
    "TopicUnavailable",
    "create_event_tables",
    "drop_event_tables",
    "enqueue",
    "enqueue_envelope",
    "ensure_topics",
    "event_id_of",
    "inbox_table",
    "is_broker_trouble",
    "malformed_record_id",
    "missing_topics",
    "new_envelope",
    "notify_channel",
    "outbox_table",
    "pack",
    "parked_rows",
    "relay_lock_key",
    "requeue_parked",
    "unpack",
    "unpack_payload",
]
