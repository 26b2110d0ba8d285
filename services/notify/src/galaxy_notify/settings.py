"""Notify settings (docs/configuration.md, "notify"; the rules they tune are in docs/notify.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field

#: Push attempts before a notification no push consumer took is dead-lettered.
PUSH_MAX_ATTEMPTS = 6
#: First wait before a pending notification counts an attempt; doubles per attempt.
PUSH_RETRY_BASE_SECONDS = 2.0
PUSH_RETRY_MAX_SECONDS = 60.0
#: A push stream refreshes its consumer's lease this often; the lease lasts three times longer.
PUSH_HEARTBEAT_SECONDS = 2.0
#: How often streams and the retry worker look again when no NOTIFY woke them.
PUSH_POLL_INTERVAL_SECONDS = 1.0
#: Deadline of each call to account and mail.
DOWNSTREAM_TIMEOUT_SECONDS = 5.0
CONSUMER_SESSION_TIMEOUT_MS = 10_000
#: The longest a fetch of the intents topic waits at the broker for new records: the floor of the
#: intent-to-push latency when the broker holds a fetch for its whole wait (aiokafka's default: 500).
INTENTS_FETCH_MAX_WAIT_MS = 50


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    account_grpc_target: str = default_grpc_target("account")
    mail_grpc_target: str = default_grpc_target("mail")
    notify_downstream_timeout_seconds: float = Field(DOWNSTREAM_TIMEOUT_SECONDS, gt=0)

    notify_push_max_attempts: int = Field(PUSH_MAX_ATTEMPTS, ge=1)
    notify_push_retry_base_seconds: float = Field(PUSH_RETRY_BASE_SECONDS, gt=0)
    notify_push_retry_max_seconds: float = Field(PUSH_RETRY_MAX_SECONDS, gt=0)
    notify_push_heartbeat_seconds: float = Field(PUSH_HEARTBEAT_SECONDS, gt=0)
    notify_push_poll_interval_seconds: float = Field(PUSH_POLL_INTERVAL_SECONDS, gt=0)

    #: false: this process consumes no events (intents, account lifecycle).
    notify_consumers_enabled: bool = True
    #: Consumer groups are `<prefix>.intents` and `<prefix>.account-lifecycle`.
    notify_consumer_group_prefix: str = "notify"
    notify_consumer_session_timeout_ms: int = Field(CONSUMER_SESSION_TIMEOUT_MS, ge=1000)
    notify_intents_fetch_max_wait_ms: int = Field(INTENTS_FETCH_MAX_WAIT_MS, ge=1, le=500)
    #: Delivered and dead-lettered notifications, and malformed intents, are deleted this long after
    #: they were stored (a gateway cannot resume from a deleted one's id).
    notify_retention_seconds: int = Field(30 * 24 * 3600, ge=86_400)
    #: false: this process never counts push attempts nor sends e-mail (another replica does).
    notify_retry_worker_enabled: bool = True

    def consumer_options(self) -> dict[str, int]:
        timeout = self.notify_consumer_session_timeout_ms
        return {
            "session_timeout_ms": timeout,
            "heartbeat_interval_ms": max(timeout // 10, 100),
            "rebalance_timeout_ms": timeout,
        }
