"""The mail service over real gRPC, against a real PostgreSQL and a real SMTP server (aiosmtpd).

Timings are shrunk for speed (retries after tens of milliseconds, three
attempts per cycle); production defaults are in settings.py and docs/mail.md.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from importlib import resources

import grpc
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.db import create_engine, session_factory
from galaxy_kit.testing import free_port, running_service
from google.protobuf import json_format

from galaxy_mail.app import SERVICE
from galaxy_mail.domain.retry import RetryPolicy
from galaxy_mail.domain.sending import claim_due, finish
from galaxy_mail.domain.templates import TemplateCatalog
from galaxy_mail.settings import MailSettings
from galaxy_mail.smtp import DELIVERY_ID_HEADER, NOT_STARTED, SendResult, SmtpSender
from galaxy_mail.worker import DeliveryWorker

WAIT_SECONDS = 20.0
CATALOG = TemplateCatalog.load()


# -- a real SMTP server ----------------------------------------------------------------------------


class RecordingSmtpHandler:
    """aiosmtpd handler: accepts every message (250) and keeps it, parsed, in `received`.

    Runs on the Controller's own thread and event loop, hence the lock.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[EmailMessage] = []
        self.refused = 0
        self._lock = threading.Lock()

    def reply(self, envelope) -> str:
        """The SMTP reply to DATA; subclasses refuse some messages."""
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            answer = self.reply(envelope)
            if answer.startswith("250"):
                content = envelope.original_content or envelope.content
                self.received.append(email.message_from_bytes(content, policy=email.policy.default))
            else:
                self.refused += 1
        return answer

    def snapshot(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.received)

    def per_delivery(self) -> Counter[str]:
        return Counter(str(message[DELIVERY_ID_HEADER]) for message in self.snapshot())


class FlakySmtpHandler(RecordingSmtpHandler):
    """Answers DATA with `451 try later` (a transient refusal) for the first `refuse_first`
    messages it is offered, then accepts every message with `250`."""

    def __init__(self, refuse_first: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.remaining_refusals = refuse_first

    def reply(self, envelope) -> str:
        if self.remaining_refusals > 0:
            self.remaining_refusals -= 1
            return "451 try later"
        return "250 OK"


class RefusingRecipientsSmtpHandler(RecordingSmtpHandler):
    """Answers DATA with `reply` for recipients starting with `prefix`, accepts the others."""

    def __init__(self, prefix: str, reply: str = "451 try later") -> None:
        super().__init__()
        self.prefix = prefix
        self.refusal = reply

    def reply(self, envelope) -> str:
        if any(rcpt.startswith(self.prefix) for rcpt in envelope.rcpt_tos):
            return self.refusal
        return "250 OK"


class HeldOrGoneSmtpHandler(RecordingSmtpHandler):
    """Refuses recipients starting with `held` for now (451: the delivery keeps retrying) and
    those starting with `gone` for good (550: dead-lettered at once); accepts the others."""

    def reply(self, envelope) -> str:
        if any(rcpt.startswith("held") for rcpt in envelope.rcpt_tos):
            return "451 try later"
        if any(rcpt.startswith("gone") for rcpt in envelope.rcpt_tos):
            return "550 no such mailbox"
        return "250 OK"


@pytest.fixture
def catalog_with_a_notice(tmp_path, monkeypatch):
    """The shipped templates plus `notice`, a template without secret variables (its dead
    letters can be resent): the service loads this catalog instead of the package's."""
    shipped = resources.files("galaxy_mail") / "templates"
    for directory in shipped.iterdir():
        if directory.is_dir():
            (tmp_path / directory.name).mkdir()
            for file in directory.iterdir():
                (tmp_path / directory.name / file.name).write_text(file.read_text(encoding="utf-8"))
    (tmp_path / "notice").mkdir()
    (tmp_path / "notice" / "en.toml").write_text('subject = "Notice"\nbody = "Game ${game} starts."\n')
    catalog = TemplateCatalog.load(tmp_path)
    monkeypatch.setattr(TemplateCatalog, "load", classmethod(lambda cls, root=None: catalog))
    return catalog


@pytest.fixture
def smtp_server():
    """Start a real SMTP server with a given handler: `port = smtp_server(handler)`."""
    controllers: list[Controller] = []

    def start(handler: RecordingSmtpHandler, **smtp_parameters) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10, **smtp_parameters)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


# -- the service ------------------------------------------------------------------------------------


def settings_for(dsn: str, smtp_port: int, **overrides) -> MailSettings:
    values = dict(
        database_url=dsn,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_timeout_seconds=5.0,
        mail_lease_seconds=10.0,
        mail_max_attempts=3,
        mail_retry_base_seconds=0.05,
        mail_retry_factor=2.0,
        mail_retry_cap_seconds=0.2,
        mail_retry_jitter=0.5,
        mail_poll_interval_seconds=0.05,
        shutdown_grace_seconds=2.0,
        db_pool_size=4,
    )
    values.update(overrides)
    return MailSettings(**values)


@dataclass
class Mail:
    stub: mail_pb2_grpc.MailServiceStub
    settings: MailSettings
    handler: RecordingSmtpHandler

    async def enqueue(self, key: str, *, code: str = "000000", locale: str = "en",
                      recipient: str = "player@example.com", template_id: str = "login_code",
                      variables: dict[str, str] | None = None) -> mail_pb2.EnqueueDeliveryResponse:
        return await self.stub.EnqueueDelivery(
            mail_pb2.EnqueueDeliveryRequest(
                idempotency_key=key,
                template_id=template_id,
                recipient=recipient,
                locale=locale,
                variables={"code": code} if variables is None else variables,
            )
        )

    async def get(self, delivery_id: str) -> mail_pb2.MailDelivery:
        return await self.stub.AdminMailGetDelivery(
            mail_pb2.AdminMailGetDeliveryRequest(admin_username="ops", delivery_id=delivery_id)
        )

    async def attempts(self, delivery_id: str) -> list[mail_pb2.MailAttempt]:
        reply = await self.stub.AdminMailListDeliveryAttempts(
            mail_pb2.AdminMailListDeliveryAttemptsRequest(admin_username="ops", delivery_id=delivery_id)
        )
        return list(reply.items)

    async def resend(self, delivery_id: str) -> mail_pb2.MailDelivery:
        return await self.stub.AdminMailResendDelivery(
            mail_pb2.AdminMailResendDeliveryRequest(admin_username="ops", delivery_id=delivery_id)
        )

    async def deliveries(self, page: int = 1, page_size: int = 50) -> mail_pb2.MailDeliveryList:
        return await self.stub.AdminMailListDeliveries(
            mail_pb2.AdminMailListDeliveriesRequest(admin_username="ops", page=page, page_size=page_size)
        )

    async def dead_letters(self, page: int = 1, page_size: int = 50) -> mail_pb2.MailDeadLetterList:
        return await self.stub.AdminMailListDeadLetters(
            mail_pb2.AdminMailListDeadLettersRequest(admin_username="ops", page=page, page_size=page_size)
        )

    async def wait_status(self, delivery_id: str, status: str) -> mail_pb2.MailDelivery:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            delivery = await self.get(delivery_id)
            if delivery.status == status:
                return delivery
            assert time.monotonic() < deadline, f"still {delivery.status}, never {status}"
            await asyncio.sleep(0.02)


@asynccontextmanager
async def mail_service(dsn: str, handler: RecordingSmtpHandler, smtp_port: int, **overrides) -> AsyncIterator[Mail]:
    settings = settings_for(dsn, smtp_port, **overrides)
    async with running_service(SERVICE, settings) as service:
        yield Mail(mail_pb2_grpc.MailServiceStub(service.channel), settings, handler)


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def rpc_error(awaitable) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await awaitable
    return raised.value


# -- tests ------------------------------------------------------------------------------------------


async def test_enqueued_login_code_reaches_the_smtp_server_in_the_recipients_language(
    fresh_database_dsn, smtp_server
):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    # A long poll interval: only LISTEN/NOTIFY can make these arrive quickly.
    async with mail_service(fresh_database_dsn, handler, port, mail_poll_interval_seconds=30.0) as mail:
        await asyncio.sleep(0.2)  # the worker's first (empty) claim is behind it; it now sleeps
        started = time.monotonic()
        de = await mail.enqueue("login:de", code="493817", locale="de-DE", recipient="spieler@example.de")
        en = await mail.enqueue("login:fr", code="271828", locale="fr-FR", recipient="joueur@example.fr")
        ru = await mail.enqueue("login:ru", code="161803", locale="ru")
        assert de.created and en.created and ru.created
        await eventually(lambda: len(handler.snapshot()) == 3, "three messages")
        assert time.monotonic() - started < 5, "a new delivery must not wait for the poll interval"

        by_id = {str(m[DELIVERY_ID_HEADER]): m for m in handler.snapshot()}
        german, french, russian = by_id[de.delivery_id], by_id[en.delivery_id], by_id[ru.delivery_id]
        assert german["Subject"] == "Dein Galaxy-Anmeldecode"
        assert german["To"] == "spieler@example.de"
        assert german["From"] == "Galaxy <no-reply@galaxy.local>"
        assert "493817" in german.get_content()
        assert french["Subject"] == "Your Galaxy login code", "a locale not shipped falls back to en"
        assert "271828" in french.get_content()
        assert russian["Subject"] == "Ваш код входа в Galaxy"
        assert [m["Content-Language"] for m in (german, french, russian)] == ["de", "en", "ru"]
        assert "161803" in russian.get_content()

        delivery = await mail.wait_status(de.delivery_id, "sent")
        assert delivery.attempts == 1 and not delivery.HasField("next_attempt_at")
        assert delivery.template_id == "login_code" and delivery.idempotency_key == "login:de"
        [attempt] = await mail.attempts(de.delivery_id)
        assert (attempt.attempt_no, attempt.outcome) == (1, "sent")
        assert attempt.HasField("finished_at") and not attempt.HasField("error")


async def test_the_same_idempotency_key_makes_one_delivery_and_one_message(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    async with mail_service(fresh_database_dsn, handler, port) as mail:
        replies = await asyncio.gather(*(mail.enqueue("login:same", code="777001") for _ in range(5)))
        again = await mail.enqueue("login:same", code="999999", locale="de")
        ids = {reply.delivery_id for reply in [*replies, again]}
        assert len(ids) == 1
        assert sorted(reply.created for reply in [*replies, again]) == [False] * 5 + [True]
        [delivery_id] = ids
        await mail.wait_status(delivery_id, "sent")
        await asyncio.sleep(0.3)  # room for a wrong second send to show up
        assert handler.per_delivery() == {delivery_id: 1}
        assert "777001" in handler.snapshot()[0].get_content()
        assert (await mail.deliveries()).total == 1


def delivery(key: str, *, code: str = "000000", recipient: str = "player@example.com",
             template_id: str = "login_code", locale: str = "en") -> mail_pb2.EnqueueDeliveryRequest:
    return mail_pb2.EnqueueDeliveryRequest(idempotency_key=key, template_id=template_id, recipient=recipient,
                                           locale=locale, variables={"code": code})


async def test_many_deliveries_in_one_call_each_as_one_enqueue_would_be(fresh_database_dsn, smtp_server):
    """EnqueueDeliveries: one result per delivery in order; a bad one is refused alone (nothing
    stored for it), a key already taken answers its delivery with created=false, a key repeated
    inside the call is one delivery; every stored one is sent once, in its own language."""
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    async with mail_service(fresh_database_dsn, handler, port) as mail:
        earlier = await mail.enqueue("many:taken", code="500000")
        reply = await mail.stub.EnqueueDeliveries(mail_pb2.EnqueueDeliveriesRequest(deliveries=[
            delivery("many:1", code="500001", recipient="one@example.com"),
            delivery("many:bad", code="500002", recipient="two@example.com, three@example.com"),
            delivery("many:taken", code="500003"),
            delivery("many:2", code="500004", recipient="de@example.com", locale="de-AT"),
            delivery("many:1", code="500005"),
            delivery("many:nocode", template_id="notify.game_started"),
        ]))
        first, bad, taken, german, repeated, unknown = reply.results
        assert first.created and first.delivery_id and not first.error
        assert not bad.delivery_id and "recipient" in bad.error
        assert (taken.delivery_id, taken.created, taken.error) == (earlier.delivery_id, False, "")
        assert german.created and german.delivery_id not in (first.delivery_id, earlier.delivery_id)
        assert (repeated.delivery_id, repeated.created) == (first.delivery_id, False)
        assert not unknown.delivery_id and "game_name" in unknown.error and "500" not in unknown.error
        stored = {earlier.delivery_id, first.delivery_id, german.delivery_id}
        for delivery_id in stored:
            await mail.wait_status(delivery_id, "sent")
        assert (await mail.deliveries()).total == 3
        await asyncio.sleep(0.3)  # room for a wrong second send to show up
        assert handler.per_delivery() == {delivery_id: 1 for delivery_id in stored}
        by_id = {str(message[DELIVERY_ID_HEADER]): message for message in handler.snapshot()}
        assert "500001" in by_id[first.delivery_id].get_content()
        assert "500000" in by_id[earlier.delivery_id].get_content(), "a taken key changes nothing"
        assert by_id[german.delivery_id]["Content-Language"] == "de"

        for size in (0, 501):
            error = await rpc_error(mail.stub.EnqueueDeliveries(mail_pb2.EnqueueDeliveriesRequest(
                deliveries=[delivery(f"many:size:{i}") for i in range(size)]
            )))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (await mail.deliveries()).total == 3


async def test_concurrent_calls_with_the_same_keys_make_one_delivery_per_key(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    keys = [f"race:{i}" for i in range(20)]
    async with mail_service(fresh_database_dsn, handler, port) as mail:
        replies = await asyncio.gather(*(
            mail.stub.EnqueueDeliveries(mail_pb2.EnqueueDeliveriesRequest(
                deliveries=[delivery(key, code=f"{n:06d}") for key in (keys if n % 2 else keys[::-1])]
            ))
            for n in range(6)
        ))
        per_key: dict[str, set[str]] = {key: set() for key in keys}
        created = Counter()
        for n, reply in enumerate(replies):
            for key, result in zip(keys if n % 2 else keys[::-1], reply.results, strict=True):
                assert not result.error
                per_key[key].add(result.delivery_id)
                created[key] += result.created
        assert all(len(ids) == 1 for ids in per_key.values())
        assert created == {key: 1 for key in keys}
        for ids in per_key.values():
            await mail.wait_status(next(iter(ids)), "sent")
        await asyncio.sleep(0.3)
        assert sorted(handler.per_delivery().values()) == [1] * len(keys)


async def test_retries_with_backoff_then_dead_letter_then_resend_sends(
    fresh_database_dsn, smtp_server, catalog_with_a_notice
):
    handler = FlakySmtpHandler(refuse_first=3)
    port = smtp_server(handler)
    base = 0.2
    async with mail_service(
        fresh_database_dsn, handler, port, mail_max_attempts=3, mail_retry_base_seconds=base,
        mail_retry_cap_seconds=0.3,
    ) as mail:
        # A template without secrets: its dead letter keeps what a resend needs.
        reply = await mail.enqueue("notice:flaky", template_id="notice", variables={"game": "314159"})
        delivery = await mail.wait_status(reply.delivery_id, "dead_lettered")
        assert delivery.attempts == 3 and not delivery.HasField("next_attempt_at")
        assert handler.refused == 3 and handler.snapshot() == []

        attempts = await mail.attempts(reply.delivery_id)
        assert [a.attempt_no for a in attempts] == [1, 2, 3]
        assert [a.outcome for a in attempts] == ["failed"] * 3
        assert all(a.error == "451 try later" and a.HasField("finished_at") for a in attempts)
        # Exponential back-off with jitter: the n-th wait is within [d(n) / 2, d(n)], d = 0.2, 0.3 (capped).
        gaps = [
            attempts[i + 1].started_at.ToDatetime() - attempts[i].finished_at.ToDatetime() for i in range(2)
        ]
        assert gaps[0] >= timedelta(seconds=base * 0.5) and gaps[1] >= timedelta(seconds=0.3 * 0.5), gaps

        dead = await mail.dead_letters()
        assert dead.total == 1 and dead.items[0].delivery_id == reply.delivery_id
        assert "3 attempts" in dead.items[0].reason and "451 try later" in dead.items[0].reason

        resent = await mail.resend(reply.delivery_id)
        assert resent.status == "pending" and resent.HasField("next_attempt_at")
        await mail.wait_status(reply.delivery_id, "sent")
        attempts = await mail.attempts(reply.delivery_id)
        assert [(a.attempt_no, a.outcome) for a in attempts] == [
            (1, "failed"), (2, "failed"), (3, "failed"), (4, "sent"),
        ]
        assert handler.per_delivery() == {reply.delivery_id: 1}
        assert "Game 314159 starts." in handler.snapshot()[0].get_content()
        assert (await mail.dead_letters()).total == 0, "a resent dead letter leaves the list"

        error = await rpc_error(mail.resend(reply.delivery_id))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        await asyncio.sleep(0.2)
        assert handler.per_delivery() == {reply.delivery_id: 1}, "a sent delivery is never sent again"


async def test_a_permanent_refusal_dead_letters_at_once(fresh_database_dsn, smtp_server):
    handler = RefusingRecipientsSmtpHandler("nobody", reply="550 no such mailbox")
    port = smtp_server(handler)
    async with mail_service(fresh_database_dsn, handler, port, mail_max_attempts=5) as mail:
        reply = await mail.enqueue("login:gone", recipient="nobody@example.com")
        delivery = await mail.wait_status(reply.delivery_id, "dead_lettered")
        assert delivery.attempts == 1
        [attempt] = await mail.attempts(reply.delivery_id)
        assert (attempt.outcome, attempt.error) == ("rejected", "550 no such mailbox")
        assert "550 no such mailbox" in (await mail.dead_letters()).items[0].reason


async def test_invalid_requests_and_unknown_ids(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    async with mail_service(fresh_database_dsn, handler, port) as mail:
        for kwargs in (
            dict(template_id="no_such_template"),
            dict(variables={}),  # login_code needs `code`
            dict(recipient="not-an-address"),
            dict(recipient="a@example.com, b@example.com"),
            dict(recipient="a@example.com\r\nBcc: b@example.com"),
        ):
            error = await rpc_error(mail.enqueue(f"bad:{uuid.uuid4()}", **kwargs))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, kwargs
        assert (await rpc_error(mail.enqueue(""))).code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (await mail.deliveries()).total == 0

        unknown = str(uuid.uuid4())
        for call in (mail.get(unknown), mail.attempts(unknown), mail.resend(unknown)):
            assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
        assert (await rpc_error(mail.get("not-a-uuid"))).code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (await rpc_error(mail.deliveries(page_size=201))).code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_admin_views_page_newest_first_and_never_show_a_code_or_a_body(fresh_database_dsn, smtp_server):
    # "held" recipients are refused for now (451): those deliveries keep retrying, long back-off,
    # with their variables stored while we look; "gone" is refused for good (550): dead letter.
    handler = HeldOrGoneSmtpHandler()
    port = smtp_server(handler)
    codes = [f"58{i:04d}" for i in range(5)]
    async with mail_service(
        fresh_database_dsn, handler, port, mail_max_attempts=50, mail_retry_base_seconds=60,
        mail_retry_cap_seconds=60,
    ) as mail:
        ids = []
        for i, code in enumerate(codes):
            recipient = "sent@example.com" if i < 2 else ("gone@example.com" if i == 4 else f"held{i}@example.com")
            ids.append((await mail.enqueue(f"login:{i}", code=code, recipient=recipient)).delivery_id)
        await mail.wait_status(ids[0], "sent")
        await mail.wait_status(ids[4], "dead_lettered")
        await mail.wait_status(ids[2], "retrying")

        pages = [await mail.deliveries(page=p, page_size=2) for p in (1, 2, 3, 4)]
        assert [p.total for p in pages] == [5] * 4
        assert [(p.page, p.page_size) for p in pages] == [(1, 2), (2, 2), (3, 2), (4, 2)]
        listed = [item.delivery_id for p in pages for item in p.items]
        assert listed == list(reversed(ids)), "newest first, every delivery exactly once"
        defaulted = await mail.deliveries(page=0, page_size=0)
        assert (defaulted.page, defaulted.page_size, len(defaulted.items)) == (1, 50, 5)

        replies = [*pages, defaulted, await mail.dead_letters(), await mail.resend(ids[3])]
        for delivery_id in ids:
            replies.append(await mail.get(delivery_id))
            replies.extend(await mail.attempts(delivery_id))
        wire = b"".join(r.SerializeToString() for r in replies)
        text = "".join(
            json_format.MessageToJson(r, preserving_proto_field_name=True) for r in replies
        )
        bodies = [m.get_content() for m in handler.snapshot()]
        assert bodies and all(codes[0] in b or codes[1] in b for b in bodies)
        for secret in [*codes, "login code is", "held2@example.com", "sent@example.com"]:
            assert secret.encode() not in wire and secret not in text, secret

        engine = create_engine(fresh_database_dsn)
        async with engine.connect() as conn:
            rows = dict(
                (await conn.execute(sa.text("SELECT delivery_id::text, variables FROM mail.deliveries"))).all()
            )
        await engine.dispose()
        assert rows[ids[0]] is None and rows[ids[1]] is None, "a sent delivery forgets its code"
        assert rows[ids[4]] == {}, "a dead letter forgets its code"
        assert rows[ids[2]] == {"code": codes[2]}, "an unsent one keeps what it needs to be sent"


async def test_two_replicas_send_every_delivery_exactly_once(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler(delay=0.01)  # a slow server widens the window for a double send
    port = smtp_server(handler)
    count = 40
    async with (
        mail_service(fresh_database_dsn, handler, port, mail_batch_size=4) as first,
        mail_service(fresh_database_dsn, handler, port, mail_batch_size=4) as second,
    ):
        replies = await asyncio.gather(
            *((first if i % 2 else second).enqueue(f"bulk:{i}", code=f"{i:06d}") for i in range(count))
        )
        key_of = {reply.delivery_id: f"bulk:{i}" for i, reply in enumerate(replies)}
        await eventually(lambda: sum(handler.per_delivery().values()) >= count, f"{count} messages")
        await asyncio.sleep(0.3)  # room for a duplicate to arrive
        per_key = Counter(key_of[delivery_id] for delivery_id in handler.per_delivery().elements())
        assert per_key == {f"bulk:{i}": 1 for i in range(count)}

        engine = create_engine(fresh_database_dsn)
        async with engine.connect() as conn:
            workers = (await conn.execute(sa.text("SELECT count(DISTINCT worker) FROM mail.attempts"))).scalar()
            attempts = (await conn.execute(sa.text("SELECT count(*) FROM mail.attempts"))).scalar()
        await engine.dispose()
        assert attempts == count
        assert workers == 2, "both replicas took a share"


class CountingConnectionsSmtpHandler(HeldOrGoneSmtpHandler):
    """HeldOrGone that also counts the SMTP connections opened to it (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 (aiosmtpd hook)
        session.host_name = hostname  # aiosmtpd: a handler that answers EHLO records the name itself
        with self._lock:
            self.connections += 1
        return responses


async def test_a_batch_goes_over_a_few_reused_connections_and_a_refusal_does_not_break_them(
    fresh_database_dsn, smtp_server
):
    handler = CountingConnectionsSmtpHandler()
    port = smtp_server(handler)
    count, gone = 20, {3, 7, 12, 18}
    # Enqueued while no worker runs, so one worker then claims them all as one batch.
    async with mail_service(fresh_database_dsn, handler, port, mail_worker_enabled=False) as mail:
        replies = [
            await mail.enqueue(f"batch:{i}", code=f"{i:06d}",
                               recipient=f"{'gone' if i in gone else 'player'}-{i}@example.com")
            for i in range(count)
        ]
        async with mail_service(fresh_database_dsn, handler, port, mail_batch_size=count, smtp_connections=4):
            for i, reply in enumerate(replies):
                await mail.wait_status(reply.delivery_id, "dead_lettered" if i in gone else "sent")
        await asyncio.sleep(0.3)  # room for a duplicate to arrive
    assert handler.per_delivery() == {reply.delivery_id: 1 for i, reply in enumerate(replies) if i not in gone}
    assert handler.refused == len(gone)
    # 16 messages and 4 refusals over at most 4 connections: each carried several messages, and a
    # refused message did not cost its connection.
    assert handler.connections <= 4


class SlowCountingSmtpHandler(CountingConnectionsSmtpHandler):
    """Takes `delay` over every DATA and records the most messages it was ever answering at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.answering = 0
        self.most_at_once = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        with self._lock:
            self.answering += 1
            self.most_at_once = max(self.most_at_once, self.answering)
        try:
            return await super().handle_DATA(server, session, envelope)
        finally:
            with self._lock:
                self.answering -= 1


async def test_several_batches_are_in_flight_over_one_pool_of_reused_connections(fresh_database_dsn, smtp_server):
    """Batches of one against a slow server: the worker claims the next batch while the first is
    still talking SMTP (a stored delivery waits for a free connection, not for a whole batch),
    never holds more connections than GALAXY_SMTP_CONNECTIONS, and a connection that finished one
    batch carries the next instead of a new handshake and EHLO per batch."""
    handler = SlowCountingSmtpHandler(delay=1.0)
    port = smtp_server(handler)
    count = 9
    async with mail_service(fresh_database_dsn, handler, port, mail_worker_enabled=False) as mail:
        replies = [await mail.enqueue(f"pool:{i}", code=f"{i:06d}") for i in range(count)]
        async with mail_service(fresh_database_dsn, handler, port, mail_batch_size=1, smtp_connections=3):
            for reply in replies:
                await mail.wait_status(reply.delivery_id, "sent")
            late = await mail.enqueue("pool:late", code="999999")  # after a pause: a pooled connection
            await mail.wait_status(late.delivery_id, "sent")
        await asyncio.sleep(0.3)  # room for a duplicate to arrive
    assert handler.per_delivery() == {reply.delivery_id: 1 for reply in [*replies, late]}
    assert handler.most_at_once == 3, "three batches of one were sent at the same time"
    assert handler.connections == 3, "ten batches over the same three connections"


async def test_a_pooled_connection_the_server_hung_up_on_costs_no_failed_attempt(fresh_database_dsn, smtp_server):
    """The server closes connections idle for 0.5 s: the next message, which finds its pooled
    connection dropped, goes out on a new one at its first attempt (no `failed`, no retry delay)."""
    handler = CountingConnectionsSmtpHandler()
    port = smtp_server(handler, timeout=0.5)
    async with mail_service(fresh_database_dsn, handler, port, mail_retry_base_seconds=30.0,
                            mail_retry_cap_seconds=30.0) as mail:
        first = await mail.enqueue("idle:1", code="100001")
        await mail.wait_status(first.delivery_id, "sent")
        await asyncio.sleep(1.5)  # the server hangs up on the idle pooled connection
        second = await mail.enqueue("idle:2", code="100002")
        await mail.wait_status(second.delivery_id, "sent")
        attempts = await mail.attempts(second.delivery_id)
    assert [(a.attempt_no, a.outcome) for a in attempts] == [(1, "sent")]
    assert handler.connections == 2


async def test_a_batch_starts_no_conversation_that_could_outlive_its_lease(fresh_database_dsn, smtp_server):
    """One connection, a slow server: the messages the lease leaves no room for are not sent by
    this round (`failed`, tried again later), so no delivery is ever being sent while its lease has
    run out and another worker could take it; every message still arrives exactly once."""
    handler = RecordingSmtpHandler(delay=0.4)
    port = smtp_server(handler)
    count = 6
    async with mail_service(fresh_database_dsn, handler, port, mail_worker_enabled=False) as mail:
        replies = [await mail.enqueue(f"slow:{i}", code=f"{i:06d}") for i in range(count)]
        # Room to start messages for 2.0 - 1.0 = 1 s of the lease: two or three of the six.
        async with mail_service(fresh_database_dsn, handler, port, mail_batch_size=count, smtp_connections=1,
                                smtp_timeout_seconds=1.0, mail_lease_seconds=2.0):
            for reply in replies:
                await mail.wait_status(reply.delivery_id, "sent")
        await asyncio.sleep(0.5)  # room for a duplicate to arrive
        attempts = [attempt for reply in replies for attempt in await mail.attempts(reply.delivery_id)]
    assert handler.per_delivery() == {reply.delivery_id: 1 for reply in replies}
    assert any(attempt.error == NOT_STARTED for attempt in attempts)
    assert all(attempt.outcome in ("sent", "failed") for attempt in attempts)


async def test_a_crashed_workers_lease_runs_out_and_another_worker_sends(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    lease = 0.8
    async with mail_service(fresh_database_dsn, handler, port, mail_worker_enabled=False) as mail:
        reply = await mail.enqueue("login:orphan", code="662607")
        settings = mail.settings
        engine = create_engine(fresh_database_dsn, pool_size=2)
        sessions = session_factory(engine)
        policy = RetryPolicy.from_settings(settings)
        # A worker claims it and dies before sending (it never finishes the attempt).
        before_claim = time.monotonic()  # the lease runs from the claim's start, which is later
        [claim] = await claim_due(sessions, catalog=CATALOG, worker="crashed", policy=policy, lease=timedelta(seconds=lease),
                                  limit=10)
        survivor = DeliveryWorker(
            engine=engine, sessions=sessions, catalog=TemplateCatalog.load(), sender=SmtpSender(settings),
            policy=policy, lease_seconds=10, poll_interval=0.05, batch_size=5, name="survivor",
        )
        task = asyncio.create_task(survivor.run())
        try:
            await mail.wait_status(reply.delivery_id, "sent")
            assert time.monotonic() - before_claim >= lease - 0.02, "sent while the first lease was in force"
        finally:
            await survivor.stop()
            await task
            await engine.dispose()
        assert claim.attempt_no == 1
        attempts = await mail.attempts(reply.delivery_id)
        assert [(a.attempt_no, a.outcome) for a in attempts] == [(1, "abandoned"), (2, "sent")]
        assert "lease" in attempts[0].error
        assert handler.per_delivery() == {reply.delivery_id: 1}


async def test_a_resend_during_an_attempt_waits_for_it_and_then_starts_a_new_cycle(fresh_database_dsn, smtp_server):
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    async with mail_service(fresh_database_dsn, handler, port, mail_worker_enabled=False,
                            mail_max_attempts=1) as mail:
        reply = await mail.enqueue("login:inflight")
        engine = create_engine(fresh_database_dsn, pool_size=2)
        sessions = session_factory(engine)
        policy = RetryPolicy.from_settings(mail.settings)
        try:
            [claim] = await claim_due(sessions, catalog=CATALOG, worker="w1", policy=policy, lease=timedelta(seconds=30), limit=1)
            assert (await mail.resend(reply.delivery_id)).status == "pending"
            # The lease holds: nobody else may claim it while the attempt is in flight.
            assert await claim_due(sessions, catalog=CATALOG, worker="w2", policy=policy, lease=timedelta(seconds=30), limit=1) == []
            status = await finish(sessions, catalog=CATALOG, claim=claim, result=SendResult("failed", "421 busy"), policy=policy)
            # Without the resend this last allowed attempt would have dead-lettered the delivery.
            assert status == "pending"
            [again] = await claim_due(sessions, catalog=CATALOG, worker="w2", policy=policy, lease=timedelta(seconds=30), limit=1)
            assert again.attempt_no == 2
        finally:
            await engine.dispose()


async def test_no_login_code_is_readable_in_the_tables_once_sent_or_dead_lettered(fresh_database_dsn, smtp_server):
    """Read straight from the tables: the sent delivery and the dead letter (refused for good,
    and given up after the attempts ran out) keep no code anywhere; a dead-lettered login code
    cannot be resent (409 at the edge), since there is no code left to send, and stays listed."""
    handler = HeldOrGoneSmtpHandler()
    port = smtp_server(handler)
    codes = {"sent": "731001", "gone": "731002", "held": "731003"}
    async with mail_service(fresh_database_dsn, handler, port, mail_max_attempts=2) as mail:
        sent = await mail.enqueue("login:sent", code=codes["sent"], recipient="sent@example.com")
        gone = await mail.enqueue("login:gone", code=codes["gone"], recipient="gone@example.com")
        held = await mail.enqueue("login:held", code=codes["held"], recipient="held@example.com")
        await mail.wait_status(sent.delivery_id, "sent")
        await mail.wait_status(gone.delivery_id, "dead_lettered")
        await mail.wait_status(held.delivery_id, "dead_lettered")  # two 451s: attempts used up

        engine = create_engine(fresh_database_dsn)
        try:
            async with engine.connect() as conn:
                tables = (await conn.execute(sa.text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mail'"
                ))).scalars().all()
                dumps = {
                    table: " ".join(
                        str(row) for row in (await conn.execute(sa.text(f'SELECT * FROM mail."{table}"'))).all()
                    )
                    for table in tables
                }
                variables = dict(
                    (await conn.execute(sa.text("SELECT delivery_id::text, variables FROM mail.deliveries"))).all()
                )
        finally:
            await engine.dispose()
        assert {"deliveries", "attempts", "dead_letters"} <= set(dumps)
        for code in codes.values():
            assert not any(code in dump for dump in dumps.values()), code
        assert variables == {sent.delivery_id: None, gone.delivery_id: {}, held.delivery_id: {}}

        error = await rpc_error(mail.resend(held.delivery_id))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "erased" in error.details() and codes["held"] not in error.details()
        assert (await mail.get(held.delivery_id)).status == "dead_lettered"
        assert {item.delivery_id for item in (await mail.dead_letters()).items} == {
            gone.delivery_id, held.delivery_id,
        }


async def test_finished_deliveries_and_old_event_rows_are_pruned_after_their_retention(
    fresh_database_dsn, smtp_server
):
    """The kit's retention worker runs in the mail service with mail's own rule added: sent and
    dead-lettered deliveries older than the retention go (their attempts and dead-letter
    records with them), as do published outbox rows and inbox rows past theirs; recent ones,
    and deliveries still to be sent however old, stay."""
    handler = RecordingSmtpHandler()
    port = smtp_server(handler)
    async with mail_service(
        fresh_database_dsn, handler, port, mail_worker_enabled=False, retention_interval_seconds=0.2,
    ) as mail:
        ids = {}
        for name in ("old_sent", "old_dead", "recent_sent", "old_pending"):
            ids[name] = (await mail.enqueue(f"retention:{name}", code="000111")).delivery_id
        engine = create_engine(fresh_database_dsn)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO mail.attempts (attempt_id, delivery_id, attempt_no, worker, started_at) "
                    "VALUES (gen_random_uuid(), :d, 1, 'w', now() - interval '40 days')"
                ), {"d": ids["old_sent"]})
                await conn.execute(sa.text(
                    "INSERT INTO mail.dead_letters (dead_letter_id, delivery_id, reason) "
                    "VALUES (gen_random_uuid(), :d, 'gave up')"
                ), {"d": ids["old_dead"]})
                for name, status, days in (
                    ("old_sent", "sent", 31), ("old_dead", "dead_lettered", 31),
                    ("recent_sent", "sent", 29), ("old_pending", "retrying", 90),
                ):
                    await conn.execute(sa.text(
                        "UPDATE mail.deliveries SET status = :s, variables = NULL, "
                        "updated_at = now() - make_interval(days => :days) WHERE delivery_id = :d"
                    ), {"s": status, "days": days, "d": ids[name]})
                await conn.execute(sa.text(
                    "INSERT INTO mail.outbox (event_id, topic, key, event_type, payload, published_at) VALUES "
                    "(gen_random_uuid(), 't', 'k', 'x', '', now() - interval '8 days'), "
                    "(gen_random_uuid(), 't', 'k', 'x', '', now() - interval '6 days')"
                ))
                await conn.execute(sa.text(
                    "INSERT INTO mail.inbox (consumer_group, event_id, topic, partition, \"offset\", processed_at) "
                    "VALUES ('g', gen_random_uuid(), 't', 0, 0, now() - interval '15 days'), "
                    "('g', gen_random_uuid(), 't', 0, 1, now() - interval '13 days')"
                ))

            async def counts() -> tuple[int, ...]:
                async with engine.connect() as conn:
                    return tuple([
                        (await conn.execute(sa.text(f"SELECT count(*) FROM mail.{table}"))).scalar()
                        for table in ("deliveries", "attempts", "dead_letters", "outbox", "inbox")
                    ])

            deadline = time.monotonic() + WAIT_SECONDS
            while await counts() != (2, 0, 0, 1, 1):
                assert time.monotonic() < deadline, f"not pruned: {await counts()}"
                await asyncio.sleep(0.1)
            async with engine.connect() as conn:
                left = set((await conn.execute(sa.text("SELECT delivery_id::text FROM mail.deliveries"))).scalars())
        finally:
            await engine.dispose()
        assert left == {ids["recent_sent"], ids["old_pending"]}
        await rpc_error(mail.get(ids["old_sent"]))
