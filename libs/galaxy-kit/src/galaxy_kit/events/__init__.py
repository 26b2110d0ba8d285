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
    OutboxRelay,
    OutboxRow,
    PublishResult,
    enqueue,
    enqueue_envelope,
    notify_channel,
    relay_lock_key,
)
from galaxy_kit.events.schema import (
    create_event_tables,
    drop_event_tables,
    inbox_table,
    outbox_table,
)

__all__ = [
    "EventEnvelope",
    "GiveUpHandler",
    "Handler",
    "HandlerRetriesExhausted",
    "IdempotentConsumer",
    "MalformedEvent",
    "MalformedHandler",
    "OutboxRelay",
    "OutboxRow",
    "PublishResult",
    "create_event_tables",
    "drop_event_tables",
    "enqueue",
    "enqueue_envelope",
    "event_id_of",
    "inbox_table",
    "malformed_record_id",
    "new_envelope",
    "notify_channel",
    "outbox_table",
    "pack",
    "relay_lock_key",
    "unpack",
    "unpack_payload",
]
