"""Sending one message over SMTP with aiosmtplib, and classifying what went wrong.

Outcomes of one attempt (the closed set of MailAttempt.outcome, with
`abandoned`, which the worker records for a lease that ran out):

- `sent`: the server accepted the message (250 after DATA);
- `rejected`: the server refused *this message* for good — a 5xx reply to
  MAIL FROM, RCPT TO or DATA. Retrying cannot help; the delivery is
  dead-lettered at once;
- `failed`: anything else — a 4xx reply ("451 try later"), a refused or
  dropped connection, a timeout, a failed STARTTLS or AUTH (often a
  configuration problem an operator fixes, so it is retried, not rejected).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from galaxy_mail.domain.templates import RenderedMail
from galaxy_mail.settings import MailSettings

DELIVERY_ID_HEADER = "X-Galaxy-Delivery-Id"
TEMPLATE_HEADER = "X-Galaxy-Template"


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | failed | rejected
    error: str | None = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(_describe(r) for r in exc.recipients) or "recipients refused"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".strip()
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify(exc: BaseException) -> SendResult:
    """`rejected` for a permanent refusal of the message, `failed` for everything else."""
    permanent = False
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        permanent = bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    elif isinstance(exc, (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)):
        permanent = exc.code >= 500
    return SendResult("rejected" if permanent else "failed", _describe(exc))


class SmtpSender:
    """One SMTP conversation per message: connect, [STARTTLS], [AUTH], MAIL, RCPT, DATA, QUIT."""

    def __init__(self, settings: MailSettings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username or None
        # Kept as a SecretStr (its repr is masked) and unwrapped only for the AUTH command.
        self._password = settings.smtp_password
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_seconds
        self.mail_from = settings.mail_from
        address = parseaddr(settings.mail_from)[1]
        self.envelope_sender = address
        self.domain = address.rpartition("@")[2] or "galaxy.local"

    def build(self, *, delivery_id: str, recipient: str, mail: RenderedMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = recipient
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        # The same Message-ID on every attempt, so a receiver may drop a duplicate.
        message["Message-ID"] = f"<{delivery_id}@{self.domain}>"
        message[DELIVERY_ID_HEADER] = delivery_id
        message[TEMPLATE_HEADER] = mail.template_id
        message.set_content(mail.body, subtype="plain", charset="utf-8")
        # After set_content, which drops every Content-* header set before it.
        message["Content-Language"] = mail.locale
        return message

    async def send(self, message: EmailMessage, *, recipient: str) -> SendResult:
        try:
            async with asyncio.timeout(self.timeout):
                await aiosmtplib.send(
                    message,
                    sender=self.envelope_sender,
                    recipients=[recipient],
                    hostname=self.host,
                    port=self.port,
                    username=self.username,
                    password=self._password.get_secret_value() or None,
                    use_tls=False,
                    start_tls=self.starttls,
                    timeout=self.timeout,
                )
        except aiosmtplib.SMTPException as exc:
            return classify(exc)
        except TimeoutError:  # asyncio.timeout above (a TimeoutError is an OSError too: keep this first)
            return SendResult("failed", f"SMTP conversation timed out after {self.timeout:g}s")
        except OSError as exc:
            return classify(exc)
        return SendResult("sent")
