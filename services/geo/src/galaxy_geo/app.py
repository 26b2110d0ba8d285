"""Wiring of geo: its servicer, account client, lifecycle consumer, tombstone retention."""

from __future__ import annotations

from datetime import timedelta

from galaxy.geo.v1 import geo_pb2_grpc
from galaxy_kit.events import IdempotentConsumer
from galaxy_kit.grpc_client import insecure_channel
from galaxy_kit.retention import RetentionRule
from galaxy_kit.service import ServiceContext, define_service

from galaxy_geo.clients import GrpcAccountDirectory
from galaxy_geo.domain import account_lifecycle
from galaxy_geo.domain.counting import Counting, DeclaredCountryRule
from galaxy_geo.repository.tables import inbox, users
from galaxy_geo.servicer import GeoServicer
from galaxy_geo.settings import GeoSettings


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, GeoSettings)
    account_channel = insecure_channel(settings.account_grpc_target)

    async def close_channel() -> None:
        await account_channel.close()

    context.on_shutdown.append(close_channel)
    accounts = GrpcAccountDirectory(
        account_channel, timeout=settings.geo_downstream_timeout_seconds
    )
    counting = Counting(
        context.sessions,
        accounts,
        DeclaredCountryRule(
            min_observations=settings.geo_declared_min_observations,
            min_share=settings.geo_declared_min_share,
            window=timedelta(days=settings.geo_declared_window_days),
        ),
        max_batch=settings.geo_max_batch_observations,
    )
    geo_pb2_grpc.add_GeoServiceServicer_to_server(
        GeoServicer(counting=counting, reads=context.reads, accounts=accounts), context.server
    )
    # A tombstone only has to outlive the sightings queued at an edge when the user was deleted.
    context.retention.append(
        RetentionRule(
            users,
            users.c.forgotten_at,
            timedelta(seconds=settings.geo_forgotten_user_retention_seconds),
        )
    )
    if settings.geo_lifecycle_consumer_enabled:
        context.workers.append(
            IdempotentConsumer(
                account_lifecycle.TOPIC,
                group_id=account_lifecycle.CONSUMER_GROUP,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                sessions=context.sessions,
                inbox=inbox,
                handler=account_lifecycle.handle,
                consumer_options=settings.lifecycle_consumer_options(),
            )
        )


SERVICE = define_service("geo", settings_factory=GeoSettings, build=build)
