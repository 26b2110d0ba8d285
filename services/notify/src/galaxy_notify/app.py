"""Wiring of the notify service: servicer, push hub, consumers, retry worker (docs/notify.md)."""

from __future__ import annotations

from datetime import timedelta

from galaxy.notify.v1 import notify_pb2_grpc
from galaxy_kit.events import IdempotentConsumer
from galaxy_kit.grpc_client import insecure_channel
from galaxy_kit.retention import RetentionRule
from galaxy_kit.service import ServiceContext, define_service

from galaxy_notify.clients import Mailer
from galaxy_notify.domain import intake
from galaxy_notify.domain.admin import Admin
from galaxy_notify.domain.push import PushHub
from galaxy_notify.domain.retries import RetryPolicy, RetryWorker
from galaxy_notify.repository import queries
from galaxy_notify.repository.tables import inbox, malformed_intents, notifications
from galaxy_notify.servicer import NotifyServicer
from galaxy_notify.settings import NotifySettings


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, NotifySettings)
    hub = PushHub(context.engine, settings.database_dsn(), poll_interval=settings.notify_push_poll_interval_seconds,
                  heartbeat=settings.notify_push_heartbeat_seconds)
    context.workers.append(hub)
    notify_pb2_grpc.add_NotifyServiceServicer_to_server(
        NotifyServicer(admin=Admin(context.engine), hub=hub), context.server)

    if settings.notify_consumers_enabled:
        intents = intake.Intake(first_attempt_after=timedelta(seconds=settings.notify_push_retry_base_seconds))
        handlers = (
            (intake.INTENTS_TOPIC, intake.INTENTS_GROUP, intents.on_intent, intake.on_malformed,
             {"fetch_max_wait_ms": settings.notify_intents_fetch_max_wait_ms}),
            (intake.LIFECYCLE_TOPIC, intake.LIFECYCLE_GROUP, intake.on_account_lifecycle, None, {}),
        )
        for topic, group, handler, on_malformed, options in handlers:
            context.workers.append(IdempotentConsumer(
                topic, group_id=f"{settings.notify_consumer_group_prefix}.{group}",
                bootstrap_servers=settings.kafka_bootstrap_servers, sessions=context.sessions, inbox=inbox,
                handler=handler, on_malformed=on_malformed,
                consumer_options={**settings.consumer_options(), **options},
            ))

    # Pending notifications are never pruned: a gateway may still be sent them.
    keep_for = timedelta(seconds=settings.notify_retention_seconds)
    context.retention.extend([
        RetentionRule(notifications, notifications.c.created_at, keep_for,
                      finished=notifications.c.status.in_([queries.DELIVERED, queries.DEAD])),
        RetentionRule(malformed_intents, malformed_intents.c.received_at, keep_for),
    ])

    if settings.notify_retry_worker_enabled:
        account_channel = insecure_channel(settings.account_grpc_target)
        mail_channel = insecure_channel(settings.mail_grpc_target)

        async def close_channels() -> None:
            await account_channel.close()
            await mail_channel.close()

        context.on_shutdown.append(close_channels)
        mailer = Mailer(account_channel, mail_channel, timeout=settings.notify_downstream_timeout_seconds)
        context.workers.append(RetryWorker(
            context.sessions, mailer,
            policy=RetryPolicy(settings.notify_push_max_attempts, settings.notify_push_retry_base_seconds,
                               settings.notify_push_retry_max_seconds),
            interval=settings.notify_push_poll_interval_seconds,
        ))


SERVICE = define_service("notify", settings_factory=NotifySettings, build=build)
