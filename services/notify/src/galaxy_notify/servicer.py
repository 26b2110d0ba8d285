"""NotifyService over gRPC: translate messages, call the domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from galaxy.notify.v1 import notify_pb2, notify_pb2_grpc
from galaxy_kit.proto import timestamp
from google.protobuf.struct_pb2 import Struct

from galaxy_notify.domain.admin import Admin
from galaxy_notify.domain.push import PushHub
from galaxy_notify.repository.queries import NotificationRow


def _struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def notification_message(row: NotificationRow) -> notify_pb2.NotificationDetail:
    return notify_pb2.NotificationDetail(
        notification_id=str(row.notification_id), kind=row.kind, idempotency_key=row.idempotency_key,
        user_id=str(row.user_id), payload=_struct(row.payload), created_at=timestamp(row.created_at),
    )


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, *, admin: Admin, hub: PushHub) -> None:
        self._admin = admin
        self._hub = hub

    async def AdminNotificationsList(self, request, context: grpc.aio.ServicerContext) -> notify_pb2.NotificationList:
        page = await self._admin.notifications(request.page, request.page_size)
        return notify_pb2.NotificationList(items=[notification_message(r) for r in page.items], page=page.page,
                                           page_size=page.page_size, total=page.total)

    async def AdminNotificationsGet(self, request, context: grpc.aio.ServicerContext) -> notify_pb2.NotificationDetail:
        return notification_message(await self._admin.notification(request.notification_id))

    async def AdminNotificationsListDeadLetters(
        self, request, context: grpc.aio.ServicerContext
    ) -> notify_pb2.NotificationDeadLetterList:
        page = await self._admin.dead_letters(request.page, request.page_size)
        return notify_pb2.NotificationDeadLetterList(
            items=[notify_pb2.NotificationDeadLetter(
                dead_letter_id=str(r.dead_letter_id), notification_id=str(r.notification_id),
                archived_at=timestamp(r.archived_at), reason=r.reason) for r in page.items],
            page=page.page, page_size=page.page_size, total=page.total)

    async def AdminNotificationsListMalformed(
        self, request, context: grpc.aio.ServicerContext
    ) -> notify_pb2.NotificationMalformedList:
        page = await self._admin.malformed(request.page, request.page_size)
        return notify_pb2.NotificationMalformedList(
            items=[notify_pb2.NotificationMalformed(
                id=str(r.id), received_at=timestamp(r.received_at), payload=_struct(r.payload),
                reason=r.reason) for r in page.items],
            page=page.page, page_size=page.page_size, total=page.total)

    async def SubscribePush(self, request: notify_pb2.SubscribePushRequest,
                            context: grpc.aio.ServicerContext) -> AsyncIterator[notify_pb2.PushEvent]:
        async for event in self._hub.stream(request.consumer_id, request.last_event_id):
            yield event
