"""Geo settings (docs/configuration.md, "geo"; the rules they tune are in docs/geo.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field

#: Deadline of each call to account.
DOWNSTREAM_TIMEOUT_SECONDS = 5.0
#: Kafka consumer group session timeout of the account-lifecycle consumer.
LIFECYCLE_SESSION_TIMEOUT_MS = 10_000
#: Most observations one ObserveClientAddresses call may carry (the edge sends at most 500).
MAX_BATCH_OBSERVATIONS = 5_000
#: The declared-country rule (docs/geo.md, "Telling account"): at least this many sightings ...
DECLARED_MIN_OBSERVATIONS = 20
#: ... of which at least this share from one country ...
DECLARED_MIN_SHARE = 0.6
#: ... counting only countries seen within this many days.
DECLARED_WINDOW_DAYS = 30.0
#: How long a deleted user's tombstone stays (it keeps late observations from recreating counters).
FORGOTTEN_USER_RETENTION_SECONDS = 86_400.0


class GeoSettings(ServiceSettings):
    service_name: str = "geo"
    account_grpc_target: str = default_grpc_target("account")
    geo_downstream_timeout_seconds: float = Field(DOWNSTREAM_TIMEOUT_SECONDS, gt=0)
    geo_max_batch_observations: int = Field(MAX_BATCH_OBSERVATIONS, ge=1, le=5_000)

    geo_declared_min_observations: int = Field(DECLARED_MIN_OBSERVATIONS, ge=1)
    geo_declared_min_share: float = Field(DECLARED_MIN_SHARE, gt=0.5, le=1.0)
    geo_declared_window_days: float = Field(DECLARED_WINDOW_DAYS, gt=0)

    # The consumer of galaxy.account.lifecycle.v1 (drops a deleted user's counters).
    geo_lifecycle_consumer_enabled: bool = True
    geo_lifecycle_session_timeout_ms: int = Field(LIFECYCLE_SESSION_TIMEOUT_MS, ge=1000)
    geo_forgotten_user_retention_seconds: float = Field(FORGOTTEN_USER_RETENTION_SECONDS, ge=60)

    def lifecycle_consumer_options(self) -> dict[str, int]:
        timeout = self.geo_lifecycle_session_timeout_ms
        return {
            "session_timeout_ms": timeout,
            "heartbeat_interval_ms": max(timeout // 10, 100),
            "rebalance_timeout_ms": timeout,
        }
