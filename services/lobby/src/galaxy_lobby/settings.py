"""Lobby settings (docs/configuration.md, "lobby"; the rules they tune are in docs/lobby.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field

#: How often the outbox relay looks for unpublished events when no NOTIFY woke it.
RELAY_POLL_INTERVAL_SECONDS = 1.0
#: Deadline of each call to account and runtime.
DOWNSTREAM_TIMEOUT_SECONDS = 5.0
#: How often the public-game scheduler looks for games to move.
SCHEDULER_INTERVAL_SECONDS = 5.0
#: Kafka consumer group session timeout of lobby's consumers.
CONSUMER_SESSION_TIMEOUT_MS = 10_000


class LobbySettings(ServiceSettings):
    service_name: str = "lobby"
    account_grpc_target: str = default_grpc_target("account")
    runtime_grpc_target: str = default_grpc_target("runtime")
    lobby_downstream_timeout_seconds: float = Field(DOWNSTREAM_TIMEOUT_SECONDS, gt=0)

    # Numbers for the account limit codes the entitlement does not carry (an active limit overrides them).
    lobby_default_max_active_games: int = Field(10, ge=0)
    lobby_default_max_pending_applications: int = Field(10, ge=0)
    lobby_default_max_pending_invites: int = Field(50, ge=0)

    #: false: this process serves gRPC only and publishes nothing (another replica's relay does).
    lobby_relay_enabled: bool = True
    lobby_relay_poll_interval_seconds: float = Field(RELAY_POLL_INTERVAL_SECONDS, gt=0)
    #: false: this process consumes no events (runtime status, account lifecycle).
    lobby_consumers_enabled: bool = True
    #: Consumer groups are `<prefix>.runtime-status` and `<prefix>.account-lifecycle`.
    lobby_consumer_group_prefix: str = "lobby"
    lobby_consumer_session_timeout_ms: int = Field(CONSUMER_SESSION_TIMEOUT_MS, ge=1000)
    #: false: this process never moves public games on its own (any number of replicas may run it).
    lobby_scheduler_enabled: bool = True
    lobby_scheduler_interval_seconds: float = Field(SCHEDULER_INTERVAL_SECONDS, gt=0)

    def consumer_options(self) -> dict[str, int]:
        timeout = self.lobby_consumer_session_timeout_ms
        return {
            "session_timeout_ms": timeout,
            "heartbeat_interval_ms": max(timeout // 10, 100),
            "rebalance_timeout_ms": timeout,
        }
