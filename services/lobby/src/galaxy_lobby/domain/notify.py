"""Notification intents (galaxy.notify.intents.v1) written to lobby's outbox in the caller's transaction.

Every kind and its params are listed in docs/lobby.md ("Notification intents"); notify validates
against that list, so a new kind or param is a docs change first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from galaxy.common.v1.json_pb2 import RawJson
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy_kit.events import enqueue
from galaxy_kit.proto import timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_lobby.domain.vocabulary import NotifyKind
from galaxy_lobby.repository.tables import outbox

TOPIC = "galaxy.notify.intents.v1"
PRODUCER = "lobby"


async def intend(
    session: AsyncSession, *, kind: NotifyKind, recipients: Iterable[object], params: dict[str, object],
    now: datetime,
) -> None:
    """One intent per distinct recipient, each keyed by its user id."""
    values = RawJson(json=json.dumps({
        k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in params.items() if v is not None}).encode())
    for user_id in dict.fromkeys(str(r) for r in recipients if r is not None):
        intent = NotificationIntent(
            intent_id=str(uuid.uuid4()), user_id=user_id, kind=str(kind), params_json=values,
            occurred_at=timestamp(now), source=PRODUCER,
        )
        await enqueue(session, table=outbox, topic=TOPIC, key=user_id, message=intent, producer=PRODUCER)
