"""Wiring of the mail service: its servicer, the delivery worker, retention, its migrations."""

from __future__ import annotations

from datetime import timedelta

from galaxy.mail.v1 import mail_pb2_grpc
from galaxy_kit.retention import RetentionRule
from galaxy_kit.service import ServiceContext, define_service

from galaxy_mail.domain.retry import RetryPolicy
from galaxy_mail.domain.templates import TemplateCatalog
from galaxy_mail.repository.tables import FINISHED, deliveries
from galaxy_mail.servicer import MailServicer
from galaxy_mail.settings import MailSettings
from galaxy_mail.smtp import SmtpSender
from galaxy_mail.worker import DeliveryWorker


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, MailSettings)
    catalog = TemplateCatalog.load()
    servicer = MailServicer(sessions=context.sessions, reads=context.reads, catalog=catalog)
    mail_pb2_grpc.add_MailServiceServicer_to_server(servicer, context.server)
    # Finished deliveries go after the retention (attempts and dead-letter records cascade).
    context.retention.append(
        RetentionRule(
            deliveries,
            deliveries.c.updated_at,
            timedelta(seconds=settings.mail_delivery_retention_seconds),
            finished=deliveries.c.status.in_(FINISHED),
        )
    )
    if settings.mail_worker_enabled:
        context.workers.append(
            DeliveryWorker(
                engine=context.engine,
                sessions=context.sessions,
                catalog=catalog,
                sender=SmtpSender(settings),
                policy=RetryPolicy.from_settings(settings),
                lease_seconds=settings.mail_lease_seconds,
                poll_interval=settings.mail_poll_interval_seconds,
                batch_size=settings.mail_batch_size,
                stop_grace=settings.shutdown_grace_seconds,
            )
        )


SERVICE = define_service("mail", settings_factory=MailSettings, build=build)
