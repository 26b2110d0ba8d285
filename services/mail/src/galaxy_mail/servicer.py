"""MailService over gRPC: translate messages, call the domain, nothing else.

No reply carries a delivery's variables, its recipient or its rendered body:
the admin messages have no field for them, and the domain never reads them for
an admin call.
"""

from __future__ import annotations

import grpc
from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.db import Reads
from galaxy_kit.proto import timestamp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_mail.domain import deliveries
from galaxy_mail.domain.templates import TemplateCatalog
from galaxy_mail.repository.deliveries import AttemptView, DeadLetterView, DeliveryView


def delivery_message(view: DeliveryView) -> mail_pb2.MailDelivery:
    message = mail_pb2.MailDelivery(
        delivery_id=str(view.delivery_id),
        template_id=view.template_id,
        idempotency_key=view.idempotency_key,
        status=view.status,
        attempts=view.attempts,
        created_at=timestamp(view.created_at),
    )
    if view.next_attempt_at is not None:
        message.next_attempt_at.CopyFrom(timestamp(view.next_attempt_at))
    return message


def attempt_message(view: AttemptView) -> mail_pb2.MailAttempt:
    message = mail_pb2.MailAttempt(
        attempt_id=str(view.attempt_id),
        delivery_id=str(view.delivery_id),
        attempt_no=view.attempt_no,
        started_at=timestamp(view.started_at),
    )
    if view.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(view.finished_at))
    if view.outcome is not None:
        message.outcome = view.outcome
    if view.error is not None:
        message.error = view.error
    return message


def dead_letter_message(view: DeadLetterView) -> mail_pb2.MailDeadLetter:
    return mail_pb2.MailDeadLetter(
        dead_letter_id=str(view.dead_letter_id),
        delivery_id=str(view.delivery_id),
        archived_at=timestamp(view.archived_at),
        reason=view.reason,
    )


class MailServicer(mail_pb2_grpc.MailServiceServicer):
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], reads: Reads, catalog: TemplateCatalog
    ) -> None:
        self._sessions = sessions
        self._reads = reads
        self._catalog = catalog

    async def EnqueueDelivery(
        self, request: mail_pb2.EnqueueDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.EnqueueDeliveryResponse:
        delivery_id, created = await deliveries.enqueue(
            self._reads,
            catalog=self._catalog,
            idempotency_key=request.idempotency_key,
            template_id=request.template_id,
            recipient=request.recipient,
            locale=request.locale,
            variables=dict(request.variables),
        )
        return mail_pb2.EnqueueDeliveryResponse(delivery_id=str(delivery_id), created=created)

    async def EnqueueDeliveries(
        self, request: mail_pb2.EnqueueDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.EnqueueDeliveriesResponse:
        results = await deliveries.enqueue_many(
            self._reads,
            catalog=self._catalog,
            requests=[
                deliveries.EnqueueRequest(
                    idempotency_key=item.idempotency_key, template_id=item.template_id,
                    recipient=item.recipient, locale=item.locale, variables=dict(item.variables),
                )
                for item in request.deliveries
            ],
        )
        return mail_pb2.EnqueueDeliveriesResponse(results=[
            mail_pb2.EnqueueDeliveryResult(delivery_id=str(result.delivery_id), created=result.created)
            if result.error is None else mail_pb2.EnqueueDeliveryResult(error=result.error)
            for result in results
        ])

    async def AdminMailListDeliveries(
        self, request: mail_pb2.AdminMailListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.MailDeliveryList:
        page = await deliveries.list_deliveries(self._sessions, page=request.page, page_size=request.page_size)
        return mail_pb2.MailDeliveryList(
            items=[delivery_message(view) for view in page.items],
            page=page.page,
            page_size=page.page_size,
            total=page.total,
        )

    async def AdminMailGetDelivery(
        self, request: mail_pb2.AdminMailGetDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.MailDelivery:
        delivery_id = deliveries.parse_delivery_id(request.delivery_id)
        return delivery_message(await deliveries.get(self._sessions, delivery_id=delivery_id))

    async def AdminMailListDeliveryAttempts(
        self, request: mail_pb2.AdminMailListDeliveryAttemptsRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.MailAttemptList:
        delivery_id = deliveries.parse_delivery_id(request.delivery_id)
        items = await deliveries.list_attempts(self._sessions, delivery_id=delivery_id)
        return mail_pb2.MailAttemptList(items=[attempt_message(view) for view in items])

    async def AdminMailResendDelivery(
        self, request: mail_pb2.AdminMailResendDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.MailDelivery:
        delivery_id = deliveries.parse_delivery_id(request.delivery_id)
        view = await deliveries.resend(
            self._sessions, catalog=self._catalog, delivery_id=delivery_id,
            admin_username=request.admin_username,
        )
        return delivery_message(view)

    async def AdminMailListDeadLetters(
        self, request: mail_pb2.AdminMailListDeadLettersRequest, context: grpc.aio.ServicerContext
    ) -> mail_pb2.MailDeadLetterList:
        page = await deliveries.list_dead_letters(self._sessions, page=request.page, page_size=request.page_size)
        return mail_pb2.MailDeadLetterList(
            items=[dead_letter_message(view) for view in page.items],
            page=page.page,
            page_size=page.page_size,
            total=page.total,
        )
