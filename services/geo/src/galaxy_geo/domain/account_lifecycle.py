"""Geo's consumer of `galaxy.account.lifecycle.v1`: a deleted account's counters are dropped.

Applied exactly once (galaxy_kit.events.IdempotentConsumer: the deletion and the inbox row commit
together). The user's row stays as a tombstone (`forgotten_at`) for
GEO_FORGOTTEN_USER_RETENTION_SECONDS, so sightings still queued at an edge when the account was
deleted do not bring counters back. A permanent block keeps the counters (the account still exists).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import EventEnvelope, MalformedEvent, unpack_payload
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_geo.repository import counters as repo

log = get_logger(__name__)

TOPIC = "galaxy.account.lifecycle.v1"
CONSUMER_GROUP = "geo.account-lifecycle"
FORGETTING_KINDS = frozenset({"soft_deleted"})


async def handle(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
    event = unpack_payload(envelope, AccountLifecycleEvent)
    try:
        user_id = uuid.UUID(event.user_id)
    except ValueError:
        raise MalformedEvent(
            f"AccountLifecycleEvent without a user id: {event.user_id!r}"
        ) from None
    if event.kind not in FORGETTING_KINDS:
        return
    deleted = await repo.forget(session, user_id, datetime.now(UTC))
    log.info(
        "account_lifecycle_applied",
        user_id=str(user_id),
        kind=event.kind,
        event_id=envelope.event_id,
        counters_deleted=deleted,
    )
