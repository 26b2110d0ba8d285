"""What the sign-in rules need from other services (implemented over gRPC in galaxy_auth.clients)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class LoginCodeMail:
    """One login code for mail to send; the code never shows in a repr (logs)."""

    #: The challenge id: mail makes one delivery per key, so a repeated hand-over is harmless.
    idempotency_key: str
    recipient: str
    locale: str
    code: str = field(repr=False)


class MailSender(Protocol):
    async def send_login_codes(self, codes: Sequence[LoginCodeMail]) -> list[str | None]:
        """Hand the codes to the mail service in one call; per code None (accepted) or the reason
        mail refused it. Raises (Unavailable, ...) when the call as a whole failed."""
