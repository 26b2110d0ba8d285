"""Settings every service shares, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
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
    db_pool_size: int = 10

    def database_dsn(self) -> str:
        """The DSN in clear, for the one place that connects with it."""
        return self.database_url.get_secret_value()

    def listen_addr(self) -> str:
        return self.grpc_listen_addr or default_grpc_target(self.service_name)
