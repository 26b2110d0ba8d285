"""Settings every service shares, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/galaxy"
DEFAULT_KAFKA_BOOTSTRAP_SERVERS = "127.0.0.1:19092"

#: Where each service listens by default; other services and the edge find it there.
DEFAULT_GRPC_PORTS: dict[str, int] = {
    "auth": 50051,
    "account": 50052,
    "lobby": 50053,
    "runtime": 50054,
    "mail": 50055,
    "notify": 50056,
    "geo": 50057,
}


#: Refusals of one outbox row before the relay parks it as a dead letter
#: (docs/architecture.md, "Events").
DEFAULT_OUTBOX_MAX_ATTEMPTS = 5
#: Published outbox rows are kept this long (to look at what went out), then pruned.
DEFAULT_OUTBOX_RETENTION_SECONDS = 7 * 86_400
#: Inbox rows (consumer deduplication) are kept this long. It must exceed the longest time after
#: which a record can be delivered again: Kafka keeps records 7 days by default (retention.ms),
#: and a consumer group whose offsets are lost or reset re-reads everything still there.
DEFAULT_INBOX_RETENTION_SECONDS = 14 * 86_400
#: Below this an inbox row could be pruned while its record can still come again.
MIN_INBOX_RETENTION_SECONDS = 86_400
#: How often the retention worker prunes, and how many rows one of its transactions deletes.
DEFAULT_RETENTION_INTERVAL_SECONDS = 600.0
DEFAULT_RETENTION_BATCH_SIZE = 1000


def default_grpc_target(service: str) -> str:
    return f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"


class LoggingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GALAXY_", extra="ignore")

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"


class ServiceSettings(LoggingSettings):
    """The common part of a service's settings; a service subclasses it and sets `service_name`."""

    service_name: str = "galaxy"
    #: A secret: the DSN may carry a password. Read it with `database_dsn()`; repr and logs show `**********`.
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    kafka_bootstrap_servers: str = DEFAULT_KAFKA_BOOTSTRAP_SERVERS
    grpc_listen_addr: str = ""
    metrics_listen_addr: str = ""
    shutdown_grace_seconds: float = 10.0
    #: How long start-up waits for PostgreSQL to accept connections (retrying with backoff)
    #: before the process gives up: containers start in any order (docs/deploy.md).
    database_wait_seconds: float = 120.0
    db_pool_size: int = 10
    #: Let several replicas on one host listen on the same gRPC port (SO_REUSEPORT): the kernel
    #: spreads connections over them. Off by default so a second copy cannot start by mistake.
    grpc_reuse_port: bool = False

    outbox_max_attempts: int = DEFAULT_OUTBOX_MAX_ATTEMPTS
    outbox_retention_seconds: float = DEFAULT_OUTBOX_RETENTION_SECONDS
    inbox_retention_seconds: float = DEFAULT_INBOX_RETENTION_SECONDS
    retention_interval_seconds: float = DEFAULT_RETENTION_INTERVAL_SECONDS
    retention_batch_size: int = DEFAULT_RETENTION_BATCH_SIZE

    def database_dsn(self) -> str:
        """The DSN in clear, for the one place that connects with it."""
        return self.database_url.get_secret_value()

    def listen_addr(self) -> str:
        return self.grpc_listen_addr or default_grpc_target(self.service_name)

    @model_validator(mode="after")
    def _check_event_plumbing(self) -> ServiceSettings:
        if self.outbox_max_attempts < 1:
            raise ValueError("GALAXY_OUTBOX_MAX_ATTEMPTS must be at least 1")
        if self.outbox_retention_seconds <= 0:
            raise ValueError("GALAXY_OUTBOX_RETENTION_SECONDS must be positive")
        if self.inbox_retention_seconds < MIN_INBOX_RETENTION_SECONDS:
            raise ValueError(
                f"GALAXY_INBOX_RETENTION_SECONDS must be at least {MIN_INBOX_RETENTION_SECONDS} "
                "(one day) and should exceed the broker's topic retention: an inbox row pruned "
                "before its record can no longer be redelivered lets that record apply twice"
            )
        if self.retention_interval_seconds <= 0 or self.retention_batch_size < 1:
            raise ValueError(
                "GALAXY_RETENTION_INTERVAL_SECONDS and GALAXY_RETENTION_BATCH_SIZE must be positive"
            )
        return self
