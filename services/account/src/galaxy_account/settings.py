"""Account settings (docs/configuration.md, "account"; the rules are in docs/account.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings
from pydantic import Field

#: Longest a caller may keep a UserAccountGet answer (galaxy_kit.caching); 0: never.
READ_CACHE_SECONDS = 60.0

#: How often the outbox relay looks for unpublished events when no NOTIFY woke it.
RELAY_POLL_INTERVAL_SECONDS = 1.0


class AccountSettings(ServiceSettings):
    service_name: str = "account"
    #: false: this process serves gRPC only and publishes nothing (another replica's relay does).
    account_relay_enabled: bool = True
    account_relay_poll_interval_seconds: float = Field(RELAY_POLL_INTERVAL_SECONDS, gt=0)
    #: Bound of how long a caller (the edge) may keep a UserAccountGet answer; the aggregate's own
    #: next time-based change bounds it further (docs/account.md, "Caching the user's read").
    account_read_cache_seconds: float = Field(READ_CACHE_SECONDS, ge=0)
