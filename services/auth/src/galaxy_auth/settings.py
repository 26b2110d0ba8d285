"""Auth settings (docs/configuration.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings

#: bcrypt cost for administrator passwords; about a quarter second per hash on our machines.
ADMIN_BCRYPT_ROUNDS = 12


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    admin_username: str = ""
    admin_password: str = ""
    admin_bcrypt_rounds: int = ADMIN_BCRYPT_ROUNDS
