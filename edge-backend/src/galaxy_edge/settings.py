"""Settings of the edge, from the environment only (docs/configuration.md)."""

from __future__ import annotations

from galaxy_kit.settings import (
    DEFAULT_KAFKA_BOOTSTRAP_SERVERS,
    LoggingSettings,
    default_grpc_target,
)
from pydantic import Field
from pydantic_settings import SettingsConfigDict

DEFAULT_HTTP_LISTEN_ADDR = "127.0.0.1:8080"
DEFAULT_PUSH_LISTEN_ADDR = "127.0.0.1:8081"
DEFAULT_RPC_TIMEOUT_SECONDS = 10.0
DEFAULT_READINESS_TIMEOUT_SECONDS = 1.0
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_SHUTDOWN_GRACE_SECONDS = 10.0
DEFAULT_IDENTITY_CACHE_MAX_USERS = 20_000
DEFAULT_IDENTITY_FEED_MAX_SILENCE_SECONDS = 3.0
DEFAULT_IDENTITY_FEED_HEARTBEAT_SECONDS = 0.5
DEFAULT_SESSION_CACHE_MAX_SESSIONS = 50_000
#: Well under auth's last_seen_at resolution (60 s), so auth still sees a live session often.
DEFAULT_SESSION_CACHE_TTL_SECONDS = 10.0
DEFAULT_ADMIN_CACHE_MAX_CREDENTIALS = 1_024
#: How long a verified admin check may be accepted without auth (the window of a change the
#: feed could not deliver); well under auth's last_used_at resolution (60 s).
DEFAULT_ADMIN_CACHE_TTL_SECONDS = 10.0
#: About 1 KB per user read kept: 10,000 users hold about 10 MB.
DEFAULT_REPLY_CACHE_MAX_USERS = 10_000
#: The edge's own bound on keeping a user read (the service's is GALAXY_ACCOUNT_READ_CACHE_SECONDS).
DEFAULT_REPLY_CACHE_MAX_SECONDS = 60.0
DEFAULT_GEO_OBSERVE_QUEUE_MAX = 10_000
DEFAULT_GEO_OBSERVE_BATCH_MAX = 500
DEFAULT_GEO_OBSERVE_FLUSH_INTERVAL_SECONDS = 1.0


class EdgeSettings(LoggingSettings):
    """Every knob of `python -m galaxy_edge`; field names also work as keyword arguments."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    http_listen_addr: str = Field(
        DEFAULT_HTTP_LISTEN_ADDR, validation_alias="BACKEND_HTTP_LISTEN_ADDR"
    )
    push_listen_addr: str = Field(
        DEFAULT_PUSH_LISTEN_ADDR, validation_alias="BACKEND_GRPC_PUSH_LISTEN_ADDR"
    )
    auth_grpc_target: str = Field(
        default_grpc_target("auth"), validation_alias="GALAXY_AUTH_GRPC_TARGET"
    )
    account_grpc_target: str = Field(
        default_grpc_target("account"), validation_alias="GALAXY_ACCOUNT_GRPC_TARGET"
    )
    lobby_grpc_target: str = Field(
        default_grpc_target("lobby"), validation_alias="GALAXY_LOBBY_GRPC_TARGET"
    )
    runtime_grpc_target: str = Field(
        default_grpc_target("runtime"), validation_alias="GALAXY_RUNTIME_GRPC_TARGET"
    )
    mail_grpc_target: str = Field(
        default_grpc_target("mail"), validation_alias="GALAXY_MAIL_GRPC_TARGET"
    )
    notify_grpc_target: str = Field(
        default_grpc_target("notify"), validation_alias="GALAXY_NOTIFY_GRPC_TARGET"
    )
    geo_grpc_target: str = Field(
        default_grpc_target("geo"), validation_alias="GALAXY_GEO_GRPC_TARGET"
    )

    rpc_timeout_seconds: float = Field(
        DEFAULT_RPC_TIMEOUT_SECONDS, gt=0, validation_alias="BACKEND_RPC_TIMEOUT_SECONDS"
    )
    readiness_timeout_seconds: float = Field(
        DEFAULT_READINESS_TIMEOUT_SECONDS,
        gt=0,
        validation_alias="BACKEND_READINESS_TIMEOUT_SECONDS",
    )
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES, gt=0, validation_alias="BACKEND_MAX_BODY_BYTES"
    )
    shutdown_grace_seconds: float = Field(
        DEFAULT_SHUTDOWN_GRACE_SECONDS, ge=0, validation_alias="BACKEND_SHUTDOWN_GRACE_SECONDS"
    )

    kafka_bootstrap_servers: str = Field(
        DEFAULT_KAFKA_BOOTSTRAP_SERVERS, validation_alias="GALAXY_KAFKA_BOOTSTRAP_SERVERS"
    )
    #: 0 turns the identity cache (and its lifecycle feed) off: every user request asks account.
    identity_cache_max_users: int = Field(
        DEFAULT_IDENTITY_CACHE_MAX_USERS, ge=0, validation_alias="BACKEND_IDENTITY_CACHE_MAX_USERS"
    )
    identity_feed_max_silence_seconds: float = Field(
        DEFAULT_IDENTITY_FEED_MAX_SILENCE_SECONDS,
        gt=0,
        validation_alias="BACKEND_IDENTITY_FEED_MAX_SILENCE_SECONDS",
    )
    identity_feed_heartbeat_seconds: float = Field(
        DEFAULT_IDENTITY_FEED_HEARTBEAT_SECONDS,
        gt=0,
        validation_alias="BACKEND_IDENTITY_FEED_HEARTBEAT_SECONDS",
    )

    #: 0 turns the session cache off: every internalSessionsGet asks auth. The event feed (and
    #: its heartbeat and max-silence settings above) serves both caches.
    session_cache_max_sessions: int = Field(
        DEFAULT_SESSION_CACHE_MAX_SESSIONS,
        ge=0,
        validation_alias="BACKEND_SESSION_CACHE_MAX_SESSIONS",
    )
    session_cache_ttl_seconds: float = Field(
        DEFAULT_SESSION_CACHE_TTL_SECONDS, gt=0, validation_alias="BACKEND_SESSION_CACHE_TTL_SECONDS"
    )

    #: 0 turns the admin credential cache off: every admin request asks auth to check its
    #: Basic credentials (galaxy_edge.admin_cache).
    admin_cache_max_credentials: int = Field(
        DEFAULT_ADMIN_CACHE_MAX_CREDENTIALS,
        ge=0,
        validation_alias="BACKEND_ADMIN_CACHE_MAX_CREDENTIALS",
    )
    admin_cache_ttl_seconds: float = Field(
        DEFAULT_ADMIN_CACHE_TTL_SECONDS, gt=0, validation_alias="BACKEND_ADMIN_CACHE_TTL_SECONDS"
    )

    #: 0 turns the reply cache off: every user read asks its service (galaxy_edge.reply_cache).
    reply_cache_max_users: int = Field(
        DEFAULT_REPLY_CACHE_MAX_USERS, ge=0, validation_alias="BACKEND_REPLY_CACHE_MAX_USERS"
    )
    #: The edge's own bound on keeping a reply; the service's metadata bounds it further.
    reply_cache_max_seconds: float = Field(
        DEFAULT_REPLY_CACHE_MAX_SECONDS, gt=0, validation_alias="BACKEND_REPLY_CACHE_MAX_SECONDS"
    )

    #: Sightings of user requests waiting for geo (galaxy_edge.geo_observer); 0 counts nothing.
    geo_observe_queue_max: int = Field(
        DEFAULT_GEO_OBSERVE_QUEUE_MAX, ge=0, validation_alias="BACKEND_GEO_OBSERVE_QUEUE_MAX"
    )
    geo_observe_batch_max: int = Field(
        DEFAULT_GEO_OBSERVE_BATCH_MAX,
        ge=1,
        le=5_000,
        validation_alias="BACKEND_GEO_OBSERVE_BATCH_MAX",
    )
    geo_observe_flush_interval_seconds: float = Field(
        DEFAULT_GEO_OBSERVE_FLUSH_INTERVAL_SECONDS,
        gt=0,
        validation_alias="BACKEND_GEO_OBSERVE_FLUSH_INTERVAL_SECONDS",
    )

    def grpc_targets(self) -> dict[str, str]:
        """Downstream service → gRPC target."""
        return {
            "auth": self.auth_grpc_target,
            "account": self.account_grpc_target,
            "lobby": self.lobby_grpc_target,
            "runtime": self.runtime_grpc_target,
            "mail": self.mail_grpc_target,
            "notify": self.notify_grpc_target,
            "geo": self.geo_grpc_target,
        }


def split_host_port(addr: str) -> tuple[str, int]:
    """`127.0.0.1:8080` / `[::]:8080` / `:8080` → (host, port); the host defaults to 0.0.0.0."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"listen address {addr!r} is not host:port")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)
