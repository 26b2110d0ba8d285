"""Auth settings (docs/configuration.md, "auth"; the rules they tune are in docs/auth.md)."""

from __future__ import annotations

import hashlib
import hmac

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field, SecretStr, field_validator

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
#: Kafka consumer group of the account-lifecycle consumer.
LIFECYCLE_CONSUMER_GROUP = "auth.account-lifecycle"
#: Kafka consumer group session timeout of the account-lifecycle consumer.
LIFECYCLE_SESSION_TIMEOUT_MS = 10_000
#: Shortest acceptable GALAXY_AUTH_CODE_PEPPER.
MIN_PEPPER_LENGTH = 32
#: Threads that run bcrypt for the admin credential check (a flood of guesses queues here, nowhere else).
ADMIN_BCRYPT_WORKERS = 2
#: Failed admin checks per username ...
ADMIN_THROTTLE_USERNAME_FAILURES = 10
#: ... and per client address ...
ADMIN_THROTTLE_ADDRESS_FAILURES = 30
#: ... within this sliding window; beyond it a check answers 401 without running bcrypt.
ADMIN_THROTTLE_WINDOW_SECONDS = 300.0
#: How often the login-mail worker looks for codes still to hand to mail (a new code is sent at once).
LOGIN_MAIL_POLL_INTERVAL_SECONDS = 1.0
#: Longest wait between two tries to hand one code to mail.
LOGIN_MAIL_MAX_BACKOFF_SECONDS = 30.0
#: How stale a session's last_seen_at may get before the gateway's lookup writes it again.
SESSION_LAST_SEEN_RESOLUTION_SECONDS = 60.0
#: How often the outbox relay looks for unpublished events when no NOTIFY woke it.
RELAY_POLL_INTERVAL_SECONDS = 1.0

_SEAL_KEY_LABEL = b"galaxy-auth login-code mail seal v1"
PEPPER_MISSING = (
    "GALAXY_AUTH_CODE_PEPPER is not set: auth needs a secret of at least 32 characters, the same on "
    "every replica (login codes are keyed with it). `make up` generates one into "
    "$GALAXY_STATE_DIR/auth-code-pepper; elsewhere set it, e.g. to `openssl rand -base64 48`"
)


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    admin_username: str = ""
    admin_password: SecretStr = SecretStr("")
    admin_bcrypt_rounds: int = Field(ADMIN_BCRYPT_ROUNDS, ge=4, le=31)
    admin_bcrypt_workers: int = Field(ADMIN_BCRYPT_WORKERS, ge=1, le=64)
    admin_throttle_username_failures: int = Field(ADMIN_THROTTLE_USERNAME_FAILURES, ge=1)
    admin_throttle_address_failures: int = Field(ADMIN_THROTTLE_ADDRESS_FAILURES, ge=1)
    admin_throttle_window_seconds: float = Field(ADMIN_THROTTLE_WINDOW_SECONDS, gt=0)

    account_grpc_target: str = default_grpc_target("account")
    mail_grpc_target: str = default_grpc_target("mail")
    auth_downstream_timeout_seconds: float = Field(DOWNSTREAM_TIMEOUT_SECONDS, gt=0)

    # Login codes (docs/auth.md).
    #: Required outside `make up` (which generates one); no fallback.
    auth_code_pepper: SecretStr = Field(SecretStr(""), validate_default=True)
    auth_code_ttl_seconds: float = Field(CODE_TTL_SECONDS, gt=0)
    auth_code_max_attempts: int = Field(CODE_MAX_ATTEMPTS, ge=1)
    auth_code_rate_limit: int = Field(CODE_RATE_LIMIT, ge=1)
    auth_code_rate_window_seconds: float = Field(CODE_RATE_WINDOW_SECONDS, gt=0)
    auth_mail_locales: str = MAIL_LOCALES
    auth_login_code_template: str = LOGIN_CODE_TEMPLATE
    auth_login_mail_poll_interval_seconds: float = Field(LOGIN_MAIL_POLL_INTERVAL_SECONDS, gt=0)
    auth_login_mail_max_backoff_seconds: float = Field(LOGIN_MAIL_MAX_BACKOFF_SECONDS, gt=0)

    # Device sessions (docs/auth.md, "Device sessions").
    auth_session_last_seen_resolution_seconds: float = Field(SESSION_LAST_SEEN_RESOLUTION_SECONDS, gt=0)
    #: false: this process publishes nothing from auth's outbox (another replica's relay does).
    auth_relay_enabled: bool = True
    auth_relay_poll_interval_seconds: float = Field(RELAY_POLL_INTERVAL_SECONDS, gt=0)

    # The consumer of galaxy.account.lifecycle.v1 (revokes sessions of deleted/blocked accounts).
    auth_lifecycle_consumer_enabled: bool = True
    #: Its consumer group: one per deployment (tests sharing a broker give each auth its own).
    auth_lifecycle_consumer_group: str = LIFECYCLE_CONSUMER_GROUP
    #: Kafka group session timeout: how soon a crashed consumer's partitions move to another replica.
    auth_lifecycle_session_timeout_ms: int = Field(LIFECYCLE_SESSION_TIMEOUT_MS, ge=1000)

    @field_validator("auth_code_pepper")
    @classmethod
    def _pepper_set_and_long_enough(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret:
            raise ValueError(PEPPER_MISSING)
        if len(secret) < MIN_PEPPER_LENGTH:
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

    def code_key(self) -> bytes:
        """The HMAC key of login codes (domain/codes.py), from GALAXY_AUTH_CODE_PEPPER."""
        return hashlib.sha256(self.auth_code_pepper.get_secret_value().encode()).digest()

    def code_seal_key(self) -> bytes:
        """The SecretBox key that seals codes waiting in the login-mail queue; another key than code_key."""
        pepper = self.auth_code_pepper.get_secret_value().encode()
        return hmac.new(pepper, _SEAL_KEY_LABEL, hashlib.sha256).digest()
