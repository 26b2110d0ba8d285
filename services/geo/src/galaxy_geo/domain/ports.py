"""What geo's domain needs from account (implemented over gRPC in galaxy_geo.clients)."""

from __future__ import annotations

from typing import Protocol

#: ResolveUserIdentity's answers (docs/account.md).
ACTIVE, DELETED, BLOCKED, UNKNOWN = "active", "deleted", "blocked", "unknown"


class AccountDirectory(Protocol):
    async def identity(self, user_id: str) -> str:
        """active, deleted, blocked or unknown; raises Unavailable when account cannot tell."""

    async def sync_declared_country(self, user_id: str, country: str) -> bool:
        """Tell account the user's country; False when account has no such (live) user."""
