"""Account settings (docs/configuration.md, "account"; the rules are in docs/account.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings
from pydantic import Field

#: How often the outbox relay looks for unpublished events when no NOTIFY woke it.
RELAY_POLL_INTERVAL_SECONDS = 1.0


class AccountSettings(ServiceSettings):
    service_name: str = "account"
    #: false: this process serves gRPC only and publishes nothing (another replica's relay does).
    account_relay_enabled: bool = True
    account_relay_poll_interval_seconds: float = Field(RELAY_POLL_INTERVAL_SECONDS, gt=0)
