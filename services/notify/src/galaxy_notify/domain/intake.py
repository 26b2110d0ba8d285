"""The consumers of notify: intents (galaxy.notify.intents.v1) and account lifecycle events.

Both run under galaxy_kit's IdempotentConsumer: the effect and the inbox row commit together.
An intent that does not fit its kind's schema (domain/kinds.py), or a record that is no intent
at all, is kept as a malformed intent with what was received and why; nothing is dropped and
nothing is retried forever, so one bad record never holds the partition.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import ConsumerRecord
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy_kit.events import (
    EventEnvelope,
    MalformedEvent,
    malformed_record_id,
    unpack,
    unpack_payload,
)
from google.protobuf.json_format import MessageToDict
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_notify.domain import kinds
from galaxy_notify.repository import queries

log = structlog.get_logger(__name__)

INTENTS_TOPIC = "galaxy.notify.intents.v1"
INTENTS_GROUP = "intents"
LIFECYCLE_TOPIC = "galaxy.account.lifecycle.v1"
LIFECYCLE_GROUP = "account-lifecycle"
#: Lifecycle kinds that drop the user's undelivered notifications (a block keeps them: it may be lifted).
DROPPING_KINDS = frozenset({"soft_deleted"})


def _now() -> datetime:
    return datetime.now(UTC)


def _params(intent: NotificationIntent) -> object:
    """The intent's params: the JSON text of `params_json`, numbers exact; or, for an intent written
    before that field, its Struct, where every number is a double and a whole one (5.0) is taken as
    the integer it stood for. Whatever is not a JSON object is refused by kinds.check."""
    if intent.HasField("params_json"):
        try:
            return json.loads(intent.params_json.json)
        except ValueError:  # not UTF-8, or not JSON
            return kinds.NOT_JSON
    if not intent.HasField("params"):
        return {}
    return {key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in MessageToDict(intent.params).items()}


class Intake:
    """The intent handler; `first_attempt_after` is how long a new notification waits for a stream."""

    def __init__(self, *, first_attempt_after: timedelta) -> None:
        self.first_attempt_after = first_attempt_after

    async def on_intent(self, session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
        intent = unpack_payload(envelope, NotificationIntent)  # another type: MalformedEvent -> on_malformed
        params = _params(intent)
        received = {"event_id": envelope.event_id, "producer": envelope.producer,
                    "intent": MessageToDict(intent, preserving_proto_field_name=True)}
        if intent.HasField("params_json"):  # kept as the text it was, not base64
            received["intent"]["params_json"] = intent.params_json.json.decode(errors="replace")
        now = _now()
        try:
            checked = kinds.check(
                intent_id=intent.intent_id, user_id=intent.user_id, kind=intent.kind, source=intent.source,
                params=params,
                occurred_at=intent.occurred_at.ToDatetime(UTC) if intent.HasField("occurred_at") else None,
            )
        except kinds.InvalidIntent as error:
            await queries.add_malformed(session, malformed_id=uuid.UUID(envelope.event_id), payload=received,
                                        reason=str(error), now=now)
            log.warning("intent_malformed", event_id=envelope.event_id, kind=intent.kind, reason=str(error))
            return
        stored = await queries.add_notification(
            session, notification_id=uuid.uuid4(), idempotency_key=str(checked.intent_id),
            user_id=checked.user_id, kind=checked.kind.name, source=checked.source, payload=checked.params,
            occurred_at=checked.occurred_at, now=now, first_attempt_at=now + self.first_attempt_after,
        )
        if not stored:
            log.info("intent_duplicate", intent_id=str(checked.intent_id), event_id=envelope.event_id)


async def on_malformed(session: AsyncSession, record: ConsumerRecord, error: MalformedEvent) -> None:
    """A record that is not a usable envelope, or whose payload is not a NotificationIntent."""
    try:
        envelope = unpack(record.value)
        malformed_id = uuid.UUID(envelope.event_id)
        received = {"event_id": envelope.event_id, "producer": envelope.producer,
                    "event_type": envelope.event_type}
    except (MalformedEvent, ValueError):
        malformed_id = malformed_record_id(record)
        received = {}
    received.update(topic=record.topic, partition=record.partition, offset=record.offset,
                    value_base64=base64.b64encode(record.value or b"").decode())
    await queries.add_malformed(session, malformed_id=malformed_id, payload=received,
                                reason=f"not a notification intent: {error}", now=_now())
    log.warning("intent_record_malformed", topic=record.topic, partition=record.partition,
                offset=record.offset, error=str(error))


async def on_account_lifecycle(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
    event = unpack_payload(envelope, AccountLifecycleEvent)
    if event.kind not in DROPPING_KINDS:
        return
    try:
        user_id = uuid.UUID(event.user_id)
    except ValueError as error:
        raise MalformedEvent(f"user_id is not a UUID: {event.user_id!r}") from error
    dropped = await queries.drop_undelivered_of(session, user_id)
    log.info("undelivered_notifications_dropped", user_id=event.user_id, dropped=dropped, kind=event.kind)
