"""Wiring of the account service: its servicer, its outbox relay, its migrations."""

from __future__ import annotations

from galaxy.account.v1 import account_pb2_grpc
from galaxy_kit.events import OutboxRelay
from galaxy_kit.service import ServiceContext, define_service

from galaxy_account.domain.policy import CHANGES_TOPIC, LIFECYCLE_TOPIC
from galaxy_account.repository.tables import outbox
from galaxy_account.servicer import AccountServicer
from galaxy_account.settings import AccountSettings


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, AccountSettings)
    account_pb2_grpc.add_AccountServiceServicer_to_server(
        AccountServicer(
            sessions=context.sessions,
            reads=context.reads,
            read_cache_seconds=settings.account_read_cache_seconds,
        ), context.server
    )
    if settings.account_relay_enabled:
        # One active publisher per outbox across replicas (advisory lock); see galaxy_kit.events.outbox.
        context.workers.append(
            OutboxRelay(
                context.engine,
                outbox,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topics=[LIFECYCLE_TOPIC, CHANGES_TOPIC],
                poll_interval=settings.account_relay_poll_interval_seconds,
                max_attempts=settings.outbox_max_attempts,
                name="account.outbox",
            )
        )


SERVICE = define_service("account", settings_factory=AccountSettings, build=build)
