"""Mail settings (docs/configuration.md, "mail"; the retry policy is explained in docs/mail.md)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator

from galaxy_kit.settings import ServiceSettings

#: The embedded default: the local SMTP sink of `make up`, which writes every message as an .eml file.
DEFAULT_SMTP_HOST = "127.0.0.1"
DEFAULT_SMTP_PORT = 2525
DEFAULT_MAIL_FROM = "Galaxy <no-reply@galaxy.local>"
#: One SMTP conversation (connect, optional STARTTLS/AUTH, MAIL, RCPT, DATA) must end within this.
DEFAULT_SMTP_TIMEOUT_SECONDS = 30.0

#: Attempts per cycle before a delivery is dead-lettered (a resend starts a new cycle).
DEFAULT_MAX_ATTEMPTS = 8
#: Delay before retry n (n = failed attempts so far in the cycle) is
#: min(cap, base * factor ** (n - 1)), then jittered down by up to `jitter` of itself.
DEFAULT_RETRY_BASE_SECONDS = 30.0
DEFAULT_RETRY_FACTOR = 2.0
DEFAULT_RETRY_CAP_SECONDS = 3600.0
DEFAULT_RETRY_JITTER = 0.5

#: How long a worker owns a claimed delivery; must exceed the SMTP timeout (a send never outlives its lease).
DEFAULT_LEASE_SECONDS = 120.0
#: How often an idle worker looks for due deliveries (LISTEN/NOTIFY wakes it at once for new ones).
DEFAULT_POLL_INTERVAL_SECONDS = 1.0
#: Deliveries one worker claims per round; they go out over a few reused SMTP connections
#: (GALAXY_SMTP_CONNECTIONS) and are recorded together, so a larger round costs less per message.
DEFAULT_BATCH_SIZE = 50
#: SMTP connections one worker holds open at once (a pool its batches share, kept between batches),
#: and the most claimed batches it has in flight; each connection carries its share of a batch in turn.
DEFAULT_SMTP_CONNECTIONS = 8
#: Finished deliveries (sent or dead-lettered) are deleted, with their attempts and dead-letter
#: records, this long after they finished: long enough to look into a complaint or resend a dead
#: letter after an outage, far longer than any caller retries an enqueue with the same key.
DEFAULT_DELIVERY_RETENTION_SECONDS = 30 * 86_400


class MailSettings(ServiceSettings):
    service_name: str = "mail"

    smtp_host: str = DEFAULT_SMTP_HOST
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = DEFAULT_SMTP_TIMEOUT_SECONDS
    smtp_connections: int = DEFAULT_SMTP_CONNECTIONS
    mail_from: str = DEFAULT_MAIL_FROM

    mail_max_attempts: int = DEFAULT_MAX_ATTEMPTS
    mail_retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    mail_retry_factor: float = DEFAULT_RETRY_FACTOR
    mail_retry_cap_seconds: float = DEFAULT_RETRY_CAP_SECONDS
    mail_retry_jitter: float = DEFAULT_RETRY_JITTER

    mail_lease_seconds: float = DEFAULT_LEASE_SECONDS
    mail_poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    mail_batch_size: int = DEFAULT_BATCH_SIZE
    mail_delivery_retention_seconds: float = DEFAULT_DELIVERY_RETENTION_SECONDS
    #: Off only in tests that drive deliveries by hand.
    mail_worker_enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> MailSettings:
        if self.mail_max_attempts < 1:
            raise ValueError("GALAXY_MAIL_MAX_ATTEMPTS must be at least 1")
        if self.mail_retry_base_seconds < 0 or self.mail_retry_cap_seconds < 0:
            raise ValueError("retry delays must not be negative")
        if self.mail_retry_factor < 1:
            raise ValueError("GALAXY_MAIL_RETRY_FACTOR must be at least 1")
        if not 0 <= self.mail_retry_jitter <= 1:
            raise ValueError("GALAXY_MAIL_RETRY_JITTER must be between 0 and 1")
        if self.mail_lease_seconds <= self.smtp_timeout_seconds:
            raise ValueError("GALAXY_MAIL_LEASE_SECONDS must exceed GALAXY_SMTP_TIMEOUT_SECONDS")
        if self.mail_delivery_retention_seconds <= 0:
            raise ValueError("GALAXY_MAIL_DELIVERY_RETENTION_SECONDS must be positive")
        if self.smtp_connections < 1:
            raise ValueError("GALAXY_SMTP_CONNECTIONS must be at least 1")
        if self.mail_batch_size < 1 or self.mail_poll_interval_seconds <= 0:
            raise ValueError("GALAXY_MAIL_BATCH_SIZE and GALAXY_MAIL_POLL_INTERVAL_SECONDS must be positive")
        return self
