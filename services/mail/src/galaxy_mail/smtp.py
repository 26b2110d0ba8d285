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
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from galaxy_mail.domain.templates import RenderedMail
from galaxy_mail.settings import MailSettings

DELIVERY_ID_HEADER = "X-Galaxy-Delivery-Id"
#: UTF-8 with quoted-printable bodies: ASCII text stays readable on the wire (compat32's UTF-8
#: default is base64).
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
NOT_STARTED = "not sent: too little of the worker's lease was left to start it"
#: Refusals of one message (aiosmtplib reset the envelope with RSET): the connection stays usable.
_MESSAGE_REFUSALS = (
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPRecipientRefused,
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPDataError,
)
TEMPLATE_HEADER = "X-Galaxy-Template"
#: What MIMEText(body, "plain", utf-8 with quoted-printable) starts a message with.
_MIME_HEADERS = (
    'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n"
)
#: Header lines longer than this are folded (RFC 5322 recommends 78 characters).
_FOLD_AT = 76
#: A message ready to send: its bytes, or (a recipient outside ASCII) a message aiosmtplib flattens.
Outgoing = bytes | Message
#: A pooled connection idle longer than this is hung up on rather than reused: well inside the
#: idle timeouts of SMTP servers (RFC 5321 asks them to wait at least 5 minutes), so a reused
#: connection is rarely one the server already dropped (and then the message gets a new one).
IDLE_SECONDS = 10.0


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
    """SMTP over aiosmtplib: `send` holds one conversation for one message (connect, [STARTTLS],
    [AUTH], MAIL, RCPT, DATA, QUIT); `send_batch` sends many messages over a few connections."""

    def __init__(self, settings: MailSettings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username or None
        # Kept as a SecretStr (its repr is masked) and unwrapped only for the AUTH command.
        self._password = settings.smtp_password
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_seconds
        # A batch goes out over at most this many connections at once, each carrying its share of
        # the messages in turn: a connection per message cost its own TCP handshake, greeting,
        # EHLO (and STARTTLS, AUTH) and QUIT, several times the work of sending the message.
        self.connections = settings.smtp_connections
        self.mail_from = settings.mail_from
        address = parseaddr(settings.mail_from)[1]
        self.envelope_sender = address
        self.domain = address.rpartition("@")[2] or "galaxy.local"
        # A display name outside ASCII is encoded (RFC 2047) once, here.
        self._from_header = settings.mail_from if settings.mail_from.isascii() else formataddr(
            parseaddr(settings.mail_from), charset="utf-8"
        )
        self._local_hostname: asyncio.Future[str] | None = None
        # The connection pool shared by every batch in flight: at most `connections` conversations
        # at once, and a connection that ended its share of one batch carries the next batch's
        # (no new TCP handshake, greeting and EHLO per batch) unless it sat idle longer than
        # IDLE_SECONDS.
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    async def local_hostname(self) -> str:
        """The name this host gives in EHLO: its FQDN, looked up once per process.

        aiosmtplib looks it up (socket.getfqdn, a DNS query run on the default thread pool) on
        every connection it is not given one for; where DNS is slow that lookup alone took
        about 0.4 s and queued every conversation behind the pool's few threads.
        """
        if self._local_hostname is None:
            self._local_hostname = asyncio.ensure_future(asyncio.to_thread(socket.getfqdn))
        try:
            return await asyncio.shield(self._local_hostname)
        except Exception:  # noqa: BLE001 - no name: try again on the next connection
            self._local_hostname = None
            raise

    def build(self, *, delivery_id: str, recipient: str, mail: RenderedMail) -> Outgoing:
        """The message, encoded for the wire once: ASCII bytes, CRLF line ends, a quoted-printable
        UTF-8 body and RFC 2047 where a header is not ASCII. Every value is safe as it is: the
        recipient is one validated addr-spec, the subject one line (templates), the rest ours.

        Writing the bytes directly costs a fraction of building a `MIMEText` and flattening it
        with email's generator, which was a fifth of mail's CPU per message under load
        (docs/performance.md). The rare recipient outside ASCII (SMTPUTF8) still gets a
        `compat32` message that aiosmtplib flattens, as before.
        """
        date = format_datetime(datetime.now(UTC))
        if not recipient.isascii():
            message = MIMEText(mail.body, "plain", _UTF8)
            for name, value in self._headers(delivery_id, recipient, mail, date):
                message[name] = value
            return message
        lines = [_MIME_HEADERS]
        for name, value in self._headers(delivery_id, recipient, mail, date):
            if isinstance(value, Header):
                value = value.encode(linesep="\r\n")
            elif len(name) + len(value) > _FOLD_AT:  # a long subject: folded as the generator would
                value = Header(value, header_name=name).encode(linesep="\r\n")
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        # body_encode ends lines with "\n", which aiosmtplib's DATA turns into CRLF (and it
        # dot-stuffs); ASCII throughout, so no 8BITMIME is needed.
        lines.append(_UTF8.body_encode(mail.body))
        return "".join(lines).encode("ascii")

    def _headers(
        self, delivery_id: str, recipient: str, mail: RenderedMail, date: str
    ) -> tuple[tuple[str, str | Header], ...]:
        return (
            ("From", self._from_header),
            ("To", recipient),
            ("Subject", mail.subject if mail.subject.isascii() else Header(mail.subject, _UTF8)),
            ("Date", date),
            # The same Message-ID on every attempt, so a receiver may drop a duplicate.
            ("Message-ID", f"<{delivery_id}@{self.domain}>"),
            (DELIVERY_ID_HEADER, delivery_id),
            (TEMPLATE_HEADER, mail.template_id),
            ("Content-Language", mail.locale),
        )

    async def send(self, message: Outgoing, *, recipient: str) -> SendResult:
        try:
            async with asyncio.timeout(self.timeout):
                async with await self._client() as client:  # connects; QUIT on the way out
                    await self._transmit(client, message, recipient)
        except aiosmtplib.SMTPException as exc:
            return classify(exc)
        except TimeoutError:  # asyncio.timeout above (a TimeoutError is an OSError too: keep this first)
            return SendResult("failed", f"SMTP conversation timed out after {self.timeout:g}s")
        except OSError as exc:
            return classify(exc)
        return SendResult("sent")

    async def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            local_hostname=await self.local_hostname(),
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password.get_secret_value() or None,
            use_tls=False,
            start_tls=self.starttls,
            timeout=self.timeout,
        )

    async def send_batch(
        self, messages: Sequence[tuple[Outgoing, str]], results: list[SendResult | None], *, start_by: float
    ) -> None:
        """Send each (message, recipient) and put its outcome at the same index of `results`.

        Up to `connections` connections, each reused for its messages in turn; the limit and
        the connections are shared by every batch in flight (a pool), so several batches at once
        never hold more. Every message has its own SMTP timeout and its own outcome, exactly as
        with `send`; after a refusal of one message the connection carries the next, after
        anything else (a timeout, a dropped or refused connection) the next message opens a new
        one. No message starts after `start_by` (event-loop time): the caller's lease must
        outlast every conversation, so a message that could end after it is not sent now but
        answered `failed` (tried again later). `results` is filled as messages finish, so a
        caller that cancels the batch still knows which messages the server had accepted.
        """
        lanes = min(self.connections, len(messages))
        await asyncio.gather(*(
            self._send_lane(messages, range(lane, len(messages), lanes), results, start_by)
            for lane in range(lanes)
        ))

    async def _send_lane(
        self, messages: Sequence[tuple[Outgoing, str]], indexes: range, results: list[SendResult | None],
        start_by: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.connections)
        async with self._slots:
            client = self._pooled(loop.time())
            reused = client is not None
            try:
                for index in indexes:
                    message, recipient = messages[index]
                    if loop.time() > start_by:
                        results[index] = SendResult("failed", NOT_STARTED)
                        continue
                    result, client, dropped = await self._send_one(client, message, recipient)
                    if reused and dropped and loop.time() <= start_by:
                        # The server had hung up on the pooled connection while it sat idle
                        # (not this message's fault): once more, on a new connection.
                        result, client, _ = await self._send_one(None, message, recipient)
                    reused = False
                    results[index] = result
            except asyncio.CancelledError:  # the worker is stopping: hang up at once
                if client is not None:
                    client.close()
                    client = None
                raise
            finally:
                if client is not None:
                    self._idle.append((client, loop.time()))

    async def _send_one(
        self, client: aiosmtplib.SMTP | None, message: Outgoing, recipient: str
    ) -> tuple[SendResult, aiosmtplib.SMTP | None, bool]:
        """One message over `client` (a new connection when None): the outcome, the connection
        if it can carry the next message (None: it was closed), and whether the server had
        dropped the connection."""
        keep = dropped = False
        try:
            async with asyncio.timeout(self.timeout):
                if client is None:
                    client = await self._client()
                    await client.connect()
                await self._transmit(client, message, recipient)
            result = SendResult("sent")
            keep = True
        except _MESSAGE_REFUSALS as exc:
            result = classify(exc)
            keep = True
        except aiosmtplib.SMTPServerDisconnected as exc:
            result = classify(exc)
            dropped = True
        except aiosmtplib.SMTPException as exc:
            result = classify(exc)
        except TimeoutError:  # asyncio.timeout above (before OSError: a TimeoutError is one)
            result = SendResult("failed", f"SMTP conversation timed out after {self.timeout:g}s")
        except ConnectionError as exc:
            result = classify(exc)
            dropped = True
        except OSError as exc:
            result = classify(exc)
        if not keep and client is not None:
            client.close()
            client = None
        return result, client, dropped

    async def _transmit(self, client: aiosmtplib.SMTP, message: Outgoing, recipient: str) -> None:
        """MAIL, RCPT, DATA for one message over a connected client; raises what aiosmtplib does."""
        if isinstance(message, bytes):
            await client.sendmail(self.envelope_sender, [recipient], message)
        else:
            await client.send_message(message, sender=self.envelope_sender, recipients=[recipient])

    def _pooled(self, now: float) -> aiosmtplib.SMTP | None:
        """An idle connection still open and used recently, else None; stale ones are closed."""
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since <= IDLE_SECONDS:
                return client
            client.close()
        return None

    def prune_idle(self) -> None:
        """Hang up on pooled connections idle longer than IDLE_SECONDS (the worker calls it
        when it finds nothing to send)."""
        now = asyncio.get_running_loop().time()
        keep = []
        for client, since in self._idle:
            if client.is_connected and now - since <= IDLE_SECONDS:
                keep.append((client, since))
            else:
                client.close()
        self._idle = keep

    async def close(self) -> None:
        """QUIT every pooled connection (the worker stopped)."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(client, self.timeout) for client, _ in idle))


async def _quit(client: aiosmtplib.SMTP, timeout: float) -> None:
    """Say goodbye politely; a server that does not answer is simply hung up on."""
    try:
        async with asyncio.timeout(timeout):
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
    except asyncio.CancelledError:
        client.close()
        raise
