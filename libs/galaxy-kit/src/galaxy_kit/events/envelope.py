"""The event envelope: every Kafka record value is a serialized `galaxy.events.v1.EventEnvelope`.

`event_id` (a UUID) is the consumers' idempotency key, `event_type` the full
protobuf name of the payload, `payload` a `google.protobuf.Any`.

Decoding never crashes a consumer with a protobuf error: anything that is not
a usable envelope, or a payload of the wrong type, raises `MalformedEvent`,
which the idempotent consumer hands to the service's `on_malformed` hook.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TypeVar

from galaxy.events.v1.envelope_pb2 import EventEnvelope
from google.protobuf.message import DecodeError, Message

M = TypeVar("M", bound=Message)

__all__ = [
    "EventEnvelope",
    "MalformedEvent",
    "event_id_of",
    "new_envelope",
    "pack",
    "unpack",
    "unpack_payload",
]


class MalformedEvent(ValueError):
    """A record value is not a usable EventEnvelope, or its payload is not what was expected."""


def new_envelope(
    payload: Message,
    producer: str,
    *,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Wrap a payload message: a fresh uuid4 event id and the current UTC time unless given."""
    if not producer:
        raise ValueError("an event needs its producer's service name")
    envelope = EventEnvelope(
        event_id=str(event_id or uuid.uuid4()),
        event_type=payload.DESCRIPTOR.full_name,
        producer=producer,
    )
    when = occurred_at or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware (UTC)")
    envelope.occurred_at.FromDatetime(when.astimezone(UTC))
    envelope.payload.Pack(payload)
    return envelope


def pack(envelope: EventEnvelope) -> bytes:
    """The bytes of a Kafka record value (deterministic serialization)."""
    return envelope.SerializeToString(deterministic=True)


def unpack(data: bytes | None) -> EventEnvelope:
    """Decode and validate a record value; `MalformedEvent` if it is not a usable envelope.

    Usable means: it parses, `event_id` is a UUID, and both `event_type` and the
    payload's type URL are set.
    """
    if not data:
        raise MalformedEvent("empty record value: not an EventEnvelope")
    envelope = EventEnvelope()
    try:
        envelope.ParseFromString(data)
    except (DecodeError, ValueError, TypeError) as exc:  # upb raises DecodeError; be generous
        raise MalformedEvent(f"record value is not an EventEnvelope: {exc}") from exc
    try:
        uuid.UUID(envelope.event_id)
    except ValueError as exc:
        raise MalformedEvent(f"envelope event_id is not a UUID: {envelope.event_id!r}") from exc
    if not envelope.event_type:
        raise MalformedEvent(f"envelope {envelope.event_id} has no event_type")
    if not envelope.HasField("payload") or not envelope.payload.type_url:
        raise MalformedEvent(f"envelope {envelope.event_id} has no payload")
    return envelope


def event_id_of(envelope: EventEnvelope) -> uuid.UUID:
    try:
        return uuid.UUID(envelope.event_id)
    except ValueError as exc:
        raise MalformedEvent(f"envelope event_id is not a UUID: {envelope.event_id!r}") from exc


def unpack_payload(envelope: EventEnvelope, expected_cls: type[M]) -> M:
    """The payload as an `expected_cls` message; `MalformedEvent` for a wrong type or bad bytes."""
    expected = expected_cls.DESCRIPTOR.full_name
    if not envelope.payload.Is(expected_cls.DESCRIPTOR):
        raise MalformedEvent(
            f"event {envelope.event_id}: expected payload {expected}, "
            f"got {envelope.payload.type_url or 'nothing'!r}"
        )
    message = expected_cls()
    try:
        message.ParseFromString(envelope.payload.value)
    except (DecodeError, ValueError, TypeError) as exc:
        raise MalformedEvent(f"event {envelope.event_id}: undecodable {expected} payload: {exc}") from exc
    return message
