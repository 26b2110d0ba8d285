"""Event plumbing: envelope helpers, transactional outbox and relay, idempotent consumer.

Plumbing only, no domain rules. See the module docstrings of `outbox` and
`consumer` for the delivery guarantees (at-least-once publishing, exactly-once
effects through the inbox).
"""

import importlib
from typing import TYPE_CHECKING, Any

# Exports resolve on first use (PEP 562), so a process imports only the parts it
# uses: the edge reads envelopes and ensures topics, but never runs the outbox
# or the inbox consumer, and so never loads SQLAlchemy and asyncpg (about 16 MB
# of resident memory) through this package.
_EXPORTS = {
    "GiveUpHandler": "consumer",
    "Handler": "consumer",
    "HandlerRetriesExhausted": "consumer",
    "IdempotentConsumer": "consumer",
    "MalformedHandler": "consumer",
    "malformed_record_id": "consumer",
    "EventEnvelope": "envelope",
    "MalformedEvent": "envelope",
    "event_id_of": "envelope",
    "new_envelope": "envelope",
    "pack": "envelope",
    "unpack": "envelope",
    "unpack_payload": "envelope",
    "DEFAULT_MAX_ATTEMPTS": "outbox",
    "OutboxRelay": "outbox",
    "OutboxRow": "outbox",
    "ParkedRow": "outbox",
    "PublishResult": "outbox",
    "ROW_REFUSALS": "outbox",
    "TopicUnavailable": "outbox",
    "enqueue": "outbox",
    "enqueue_envelope": "outbox",
    "is_broker_trouble": "outbox",
    "notify_channel": "outbox",
    "parked_rows": "outbox",
    "relay_lock_key": "outbox",
    "requeue_parked": "outbox",
    "create_event_tables": "schema",
    "drop_event_tables": "schema",
    "inbox_table": "schema",
    "outbox_table": "schema",
    "DEFAULT_PARTITIONS": "topics",
    "ensure_topics": "topics",
    "missing_topics": "topics",
    "partition_counts": "topics",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
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
    from galaxy_kit.events.topics import (
        DEFAULT_PARTITIONS,
        ensure_topics,
        missing_topics,
        partition_counts,
    )

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
    "partition_counts",
    "relay_lock_key",
    "requeue_parked",
    "unpack",
    "unpack_payload",
]
