"""Helpers of notify's service tests (the fixture is in conftest.py): real notify replicas, account and mail on one fresh database,
real gRPC, the real broker.

Mail runs without its SMTP worker: these tests read what notify enqueued there (the SMTP side is
mail's own tests' and the suite's).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy.mail.v1 import mail_pb2_grpc
from galaxy.notify.v1 import notify_pb2, notify_pb2_grpc
from galaxy_kit.events import new_envelope, pack
from galaxy_kit.events.testing import produce_raw
from galaxy_notify.settings import NotifySettings

INTENTS = "galaxy.notify.intents.v1"
LIFECYCLE = "galaxy.account.lifecycle.v1"


def intent(user_id: str, *, kind: str = "lobby.game.paused", params: dict | None = None, source: str = "lobby",
           intent_id: str | None = None, params_json: bytes | None = None) -> NotificationIntent:
    """An intent with its params as a Struct (as records written before `params_json` carry them),
    or, given `params_json`, with exactly that JSON text (as lobby and runtime now write them)."""
    message = NotificationIntent(intent_id=intent_id or str(uuid.uuid4()), user_id=user_id, kind=kind,
                                 source=source)
    if params_json is not None:
        message.params_json.json = params_json
    else:
        message.params.update(params if params is not None else {
            "game_id": str(uuid.uuid4()), "game_name": "Andromeda", "status": "paused", "reason": "owner_pause"})
    message.occurred_at.FromDatetime(datetime.now(UTC))
    return message


@dataclass
class Stream:
    """One SubscribePush call, its events collected as they arrive."""

    call: grpc.aio.UnaryStreamCall
    events: list[notify_pb2.PushEvent] = field(default_factory=list)
    task: asyncio.Task | None = None
    error: grpc.aio.AioRpcError | None = None

    async def _collect(self) -> None:
        try:
            async for event in self.call:
                self.events.append(event)
        except grpc.aio.AioRpcError as error:
            self.error = error

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.events]

    async def close(self) -> None:
        self.call.cancel()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@dataclass
class Notify:
    stubs: list[notify_pb2_grpc.NotifyServiceStub]
    account: account_pb2_grpc.AccountServiceStub
    mail: mail_pb2_grpc.MailServiceStub
    kafka: str
    dsn: str
    streams: list[Stream] = field(default_factory=list)

    @property
    def stub(self) -> notify_pb2_grpc.NotifyServiceStub:
        return self.stubs[0]

    async def user(self, label: str = "pilot") -> str:
        reply = await self.account.EnsureAccountByEmail(account_pb2.EnsureAccountByEmailRequest(
            email=f"{label}-{uuid.uuid4().hex[:10]}@example.test", preferred_language="en", time_zone="UTC"))
        return reply.user_id

    async def publish(self, *intents: NotificationIntent, event_id: uuid.UUID | None = None) -> None:
        await produce_raw(self.kafka, INTENTS, [
            (i.user_id.encode(), pack(new_envelope(i, i.source or "lobby", event_id=event_id))) for i in intents])

    async def publish_raw(self, value: bytes) -> None:
        await produce_raw(self.kafka, INTENTS, [(None, value)])

    async def delete_account(self, user_id: str, *, event_id: uuid.UUID) -> None:
        event = AccountLifecycleEvent(user_id=user_id, kind="soft_deleted", actor_type="user", actor_id=user_id)
        event.occurred_at.FromDatetime(datetime.now(UTC))
        await produce_raw(self.kafka, LIFECYCLE, [(user_id.encode(), pack(new_envelope(event, "account",
                                                                                        event_id=event_id)))])

    def subscribe(self, consumer_id: str, last_event_id: str = "", *, replica: int = 0) -> Stream:
        call = self.stubs[replica].SubscribePush(
            notify_pb2.SubscribePushRequest(consumer_id=consumer_id, last_event_id=last_event_id))
        stream = Stream(call)
        stream.task = asyncio.create_task(stream._collect())
        self.streams.append(stream)
        return stream

    async def notifications(self) -> list[notify_pb2.NotificationDetail]:
        return list((await self.stub.AdminNotificationsList(
            notify_pb2.AdminNotificationsListRequest(page=1, page_size=200))).items)

    async def of_user(self, user_id: str) -> list[notify_pb2.NotificationDetail]:
        return [n for n in await self.notifications() if n.user_id == user_id]


def notify_settings(dsn: str, kafka: str, account: str, mail: str, group: str, **overrides) -> NotifySettings:
    values = {
        "database_url": dsn, "kafka_bootstrap_servers": kafka, "account_grpc_target": account, "mail_grpc_target": mail,
        "notify_consumer_group_prefix": group, "notify_consumer_session_timeout_ms": 6000,
        "notify_push_retry_base_seconds": 0.5, "notify_push_retry_max_seconds": 1.0, "notify_push_max_attempts": 3,
        "notify_push_heartbeat_seconds": 0.5, "notify_push_poll_interval_seconds": 0.2, "shutdown_grace_seconds": 1.0,
    }
    values.update(overrides)
    return NotifySettings(**values)


