"""Wiring of the lobby service: servicer, clients of account and runtime, relay, consumers, scheduler."""

from __future__ import annotations

from galaxy.lobby.v1 import lobby_pb2_grpc
from galaxy_kit.events import IdempotentConsumer, OutboxRelay
from galaxy_kit.grpc_client import insecure_channel
from galaxy_kit.service import ServiceContext, define_service

from galaxy_lobby.clients import AccountDirectory, Defaults, RuntimeControl
from galaxy_lobby.domain import consumers, notify
from galaxy_lobby.domain.deps import Deps
from galaxy_lobby.domain.game_counts import GameCountCompactor
from galaxy_lobby.domain.scheduler import PublicGameScheduler
from galaxy_lobby.repository.tables import inbox, outbox
from galaxy_lobby.servicer import LobbyServicer
from galaxy_lobby.settings import LobbySettings


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, LobbySettings)
    account_channel = insecure_channel(settings.account_grpc_target)
    runtime_channel = insecure_channel(settings.runtime_grpc_target)

    async def close_channels() -> None:
        await account_channel.close()
        await runtime_channel.close()

    context.on_shutdown.append(close_channels)
    timeout = settings.lobby_downstream_timeout_seconds
    deps = Deps(
        engine=context.engine,
        sessions=context.sessions,
        reads=context.reads,
        accounts=AccountDirectory(account_channel, timeout=timeout, defaults=Defaults(
            max_active_games=settings.lobby_default_max_active_games,
            max_pending_applications=settings.lobby_default_max_pending_applications,
            max_pending_invites=settings.lobby_default_max_pending_invites,
        )),
        runtime=RuntimeControl(runtime_channel, timeout=timeout),
    )
    lobby_pb2_grpc.add_LobbyServiceServicer_to_server(LobbyServicer(deps), context.server)
    if settings.lobby_relay_enabled:
        # One active publisher per outbox across replicas (advisory lock); see galaxy_kit.events.outbox.
        context.workers.append(OutboxRelay(
            context.engine, outbox, bootstrap_servers=settings.kafka_bootstrap_servers, topics=[notify.TOPIC],
            poll_interval=settings.lobby_relay_poll_interval_seconds, name="lobby.outbox",
        ))
    if settings.lobby_consumers_enabled:
        for topic, group, handler in (
            (consumers.RUNTIME_STATUS_TOPIC, consumers.RUNTIME_STATUS_GROUP, consumers.on_runtime_status),
            (consumers.LIFECYCLE_TOPIC, consumers.LIFECYCLE_GROUP, consumers.on_account_lifecycle),
        ):
            context.workers.append(IdempotentConsumer(
                topic, group_id=f"{settings.lobby_consumer_group_prefix}.{group}", bootstrap_servers=settings.kafka_bootstrap_servers,
                sessions=context.sessions, inbox=inbox, handler=handler,
                consumer_options=settings.consumer_options(),
            ))
    context.workers.append(GameCountCompactor(deps))
    if settings.lobby_scheduler_enabled:
        context.workers.append(PublicGameScheduler(deps, interval=settings.lobby_scheduler_interval_seconds))


SERVICE = define_service("lobby", settings_factory=LobbySettings, build=build)
