"""Auth settings (docs/configuration.md, "auth"; the rules they tune are in docs/auth.md)."""

from __future__ import annotations

import hashlib

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field, field_validator

#: bcrypt cost for administrator passwords; about a quarter second per hash on our machines.
ADMIN_BCRYPT_ROUNDS = 12
#: How long an e-mailed login code can be confirmed.
CODE_TTL_SECONDS = 600.0
#: The wrong code that kills a challenge (the 5th); after it even the right code fails.
CODE_MAX_ATTEMPTS = 5
#: At most this many codes per address ...
CODE_RATE_LIMIT = 5
#: ... within this sliding window.
CODE_RATE_WINDOW_SECONDS = 900.0
#: Locales the mail service ships the `login_code` template in (the first is the fallback).
MAIL_LOCALES = "en,de,ru"
LOGIN_CODE_TEMPLATE = "login_code"
#: Deadline of each call to account and mail.
DOWNSTREAM_TIMEOUT_SECONDS = 5.0
#: Kafka consumer group session timeout of the account-lifecycle consumer.
LIFECYCLE_SESSION_TIMEOUT_MS = 10_000
#: Shortest acceptable GALAXY_AUTH_CODE_PEPPER.
MIN_PEPPER_LENGTH = 32

_DEV_PEPPER_LABEL = b"galaxy-auth development code pepper, set GALAXY_AUTH_CODE_PEPPER in production\0"


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    admin_username: str = ""
    admin_password: str = ""
    admin_bcrypt_rounds: int = Field(ADMIN_BCRYPT_ROUNDS, ge=4, le=31)

    account_grpc_target: str = default_grpc_target("account")
    mail_grpc_target: str = default_grpc_target("mail")
    auth_downstream_timeout_seconds: float = Field(DOWNSTREAM_TIMEOUT_SECONDS, gt=0)

    # Login codes (docs/auth.md).
    auth_code_pepper: str = ""
    auth_code_ttl_seconds: float = Field(CODE_TTL_SECONDS, gt=0)
    auth_code_max_attempts: int = Field(CODE_MAX_ATTEMPTS, ge=1)
    auth_code_rate_limit: int = Field(CODE_RATE_LIMIT, ge=1)
    auth_code_rate_window_seconds: float = Field(CODE_RATE_WINDOW_SECONDS, gt=0)
    auth_mail_locales: str = MAIL_LOCALES
    auth_login_code_template: str = LOGIN_CODE_TEMPLATE

    # The consumer of galaxy.account.lifecycle.v1 (revokes sessions of deleted/blocked accounts).
    auth_lifecycle_consumer_enabled: bool = True
    #: Kafka group session timeout: how soon a crashed consumer's partitions move to another replica.
    auth_lifecycle_session_timeout_ms: int = Field(LIFECYCLE_SESSION_TIMEOUT_MS, ge=1000)

    @field_validator("auth_code_pepper")
    @classmethod
    def _pepper_long_enough(cls, value: str) -> str:
        if value and len(value) < MIN_PEPPER_LENGTH:
            raise ValueError(f"GALAXY_AUTH_CODE_PEPPER must be at least {MIN_PEPPER_LENGTH} characters")
        return value

    @field_validator("auth_mail_locales")
    @classmethod
    def _locales_not_empty(cls, value: str) -> str:
        if not [part for part in value.split(",") if part.strip()]:
            raise ValueError("GALAXY_AUTH_MAIL_LOCALES needs at least one locale")
        return value

    def mail_locales(self) -> list[str]:
        """The configured locales, in order; the first one is the fallback."""
        return [part.strip() for part in self.auth_mail_locales.split(",") if part.strip()]

    def lifecycle_consumer_options(self) -> dict[str, int]:
        timeout = self.auth_lifecycle_session_timeout_ms
        return {
            "session_timeout_ms": timeout,
            "heartbeat_interval_ms": max(timeout // 10, 100),
            "rebalance_timeout_ms": timeout,
        }

    def code_pepper_is_derived(self) -> bool:
        return not self.auth_code_pepper

    def code_key(self) -> bytes:
        """The HMAC key for login codes.

        GALAXY_AUTH_CODE_PEPPER when set (production: a secret shared by every
        replica). Unset, a development value derived from the database URL, so
        every replica on the same database still agrees; it is only as secret
        as the DSN, and changes when the DSN does (codes in flight then fail).
        """
        if self.auth_code_pepper:
            return hashlib.sha256(self.auth_code_pepper.encode()).digest()
        return hashlib.sha256(_DEV_PEPPER_LABEL + self.database_url.encode()).digest()
