"""What runtime publishes, always in the caller's transaction through the outbox (docs/runtime.md, "Events").

galaxy.runtime.status.v1 (key: game id) carries every change of a game's runtime that lobby acts on;
galaxy.notify.intents.v1 (key: user id) asks notify to tell the members about a turn.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from galaxy.common.v1.json_pb2 import RawJson
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
from galaxy_kit.events import enqueue
from galaxy_kit.proto import timestamp
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_runtime.domain.vocabulary import NotifyKind
from galaxy_runtime.repository.tables import outbox

STATUS_TOPIC = "galaxy.runtime.status.v1"
NOTIFY_TOPIC = "galaxy.notify.intents.v1"
PRODUCER = "runtime"
TOPICS = [STATUS_TOPIC, NOTIFY_TOPIC]


async def status_changed(session: AsyncSession, runtime: Row, *, now: datetime, message: str = "") -> None:
    """The runtime as it is now (status, engine health, current turn), for lobby."""
    event = RuntimeStatusEvent(
        game_id=str(runtime.game_id), status=runtime.status, engine_health=runtime.engine_health,
        current_turn=runtime.current_turn, occurred_at=timestamp(now), message=message,
    )
    await enqueue(session, table=outbox, topic=STATUS_TOPIC, key=str(runtime.game_id), message=event,
                  producer=PRODUCER)


async def tell_members(session: AsyncSession, runtime: Row, *, kind: NotifyKind, params: dict[str, object],
                       now: datetime) -> None:
    """One intent per member of the roster the engine plays, keyed by user id.

    The params travel as JSON text, not a Struct: the turn number reaches notify as the integer it is."""
    values = RawJson(json=json.dumps({"game_id": str(runtime.game_id), **params}).encode())
    for member in runtime.roster:
        intent = NotificationIntent(
            intent_id=str(uuid.uuid4()), user_id=member["user_id"], kind=str(kind), params_json=values,
            occurred_at=timestamp(now), source=PRODUCER,
        )
        await enqueue(session, table=outbox, topic=NOTIFY_TOPIC, key=member["user_id"], message=intent,
                      producer=PRODUCER)
