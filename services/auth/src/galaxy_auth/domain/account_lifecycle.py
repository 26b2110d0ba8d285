"""Auth's consumer of `galaxy.account.lifecycle.v1`: a deleted or permanently blocked account loses every session.

Each event is applied exactly once (galaxy_kit.events.IdempotentConsumer: the
revocations and the inbox row commit in one transaction, the Kafka offset
afterwards). Revocations are recorded with actor kind `system`, the event id
as actor id and `account_<kind>` as reason. An event that names no user id is
malformed (logged, never retried); a kind auth does not know is ignored.
"""

from __future__ import annotations

import uuid

from aiokafka import ConsumerRecord
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.events import EventEnvelope, MalformedEvent, unpack_payload
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.domain.sessions import SYSTEM, revoke_all_in

log = get_logger(__name__)

TOPIC = "galaxy.account.lifecycle.v1"
#: Kinds that end every session of the user.
REVOKING_KINDS = frozenset({"soft_deleted", "permanently_blocked"})


async def handle(session: AsyncSession, envelope: EventEnvelope, record: ConsumerRecord) -> None:
    event = unpack_payload(envelope, AccountLifecycleEvent)
    try:
        user_id = uuid.UUID(event.user_id)
    except ValueError:
        raise MalformedEvent(f"AccountLifecycleEvent without a user id: {event.user_id!r}") from None
    if event.kind not in REVOKING_KINDS:
        log.warning("account_lifecycle_kind_ignored", kind=event.kind, event_id=envelope.event_id)
        return
    summary = await revoke_all_in(
        session, user_id, actor_kind=SYSTEM, actor_id=envelope.event_id, reason=f"account_{event.kind}"
    )
    log.info("account_lifecycle_applied", user_id=str(user_id), kind=event.kind, event_id=envelope.event_id,
             revoked=summary.revoked_count)
