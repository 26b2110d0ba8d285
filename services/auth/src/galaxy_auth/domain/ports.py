"""What the sign-in rules need from other services (implemented over gRPC in galaxy_auth.clients)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class EnsuredAccount:
    #: created, existing or blocked (account's EnsureAccountByEmail).
    outcome: str
    #: Set for created and existing.
    user_id: str
    block_reason_code: str | None = None


class AccountDirectory(Protocol):
    async def is_permanently_blocked(self, email: str) -> bool:
        """True when account reports the address permanently blocked; Unavailable when it cannot tell."""

    async def ensure_by_email(
        self, *, email: str, preferred_language: str, time_zone: str
    ) -> EnsuredAccount:
        """The account for `email`, created when missing (outcome created/existing), or outcome blocked."""


class MailSender(Protocol):
    async def send_login_code(
        self, *, idempotency_key: str, recipient: str, locale: str, code: str
    ) -> None:
        """Hand the code to the mail service (one delivery per idempotency key)."""
