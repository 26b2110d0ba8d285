"""Helpers of auth's service-tier tests (fixtures in conftest.py): clients, mail reading, keys.

Importable from the tests of this directory (conftest.py puts it on sys.path).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy_devstack.smtp_sink import read_messages
from galaxy_kit.db import create_engine
from galaxy_kit.testing import RunningService, free_port
from nacl.signing import SigningKey

from galaxy_auth.settings import AuthSettings

ADMIN = "root-admin"
ADMIN_PASSWORD = "correct horse battery staple"
TIME_ZONE = "Europe/Berlin"
MAIL_TIMEOUT_SECONDS = 20.0
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def auth_settings(dsn: str, **overrides) -> AuthSettings:
    # bcrypt cost 4 keeps tests quick; production uses 12 (test_default_cost_is_12).
    values = dict(
        database_url=dsn,
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        admin_bcrypt_rounds=4,
        auth_code_pepper="test-pepper-" + "x" * 32,
        # The account-lifecycle consumer joins a Kafka group; only test_account_lifecycle.py needs it.
        auth_lifecycle_consumer_enabled=False,
    )
    values.update(overrides)
    return AuthSettings(**values)


def new_public_key() -> str:
    return base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


def new_address(label: str = "player") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.test"


@dataclass
class Neighbours:
    """The services auth calls, running, and the mail they sent."""

    database_url: str
    mail: RunningService
    account: RunningService
    mail_dir: Path

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [m for m in read_messages(self.mail_dir) if address in (m.get_all("Delivered-To") or [])]

    async def wait_for_messages(self, address: str, count: int = 1) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + MAIL_TIMEOUT_SECONDS
        while True:
            messages = self.messages_to(address)
            if len(messages) >= count:
                return messages
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{count} e-mail(s) to {address} expected, {len(messages)} arrived")
            await asyncio.sleep(0.05)

    async def code_for(self, address: str, nth: int = 1) -> str:
        """The login code of the nth e-mail received for `address`, read from its text."""
        message = (await self.wait_for_messages(address, nth))[nth - 1]
        body = message.get_body(preferencelist=("plain",)).get_content()
        found = CODE.findall(body)
        assert len(found) == 1, body
        return found[0]


@dataclass
class Auth:
    """A running auth service, a stub to it, and the sign-in steps as a client performs them."""

    service: RunningService
    stub: auth_pb2_grpc.AuthServiceStub
    neighbours: Neighbours

    @property
    def settings(self) -> AuthSettings:
        return self.service.settings  # type: ignore[return-value]

    async def send(self, email: str, *, locale: str | None = None, accept_language: str | None = None) -> str:
        body = auth_pb2.PublicAuthSendEmailCodeRequest(email=email)
        if locale is not None:
            body.locale = locale
        request = auth_pb2.PublicAuthSendEmailCodeRpcRequest(body=body)
        if accept_language is not None:
            request.accept_language = accept_language
        return (await self.stub.PublicAuthSendEmailCode(request)).challenge_id

    async def confirm(
        self, challenge_id: str, code: str, *, public_key: str | None = None, time_zone: str = TIME_ZONE
    ) -> str:
        body = auth_pb2.PublicAuthConfirmEmailCodeRequest(
            challenge_id=challenge_id,
            code=code,
            client_public_key=public_key if public_key is not None else new_public_key(),
            time_zone=time_zone,
        )
        reply = await self.stub.PublicAuthConfirmEmailCode(auth_pb2.PublicAuthConfirmEmailCodeRpcRequest(body=body))
        return reply.device_session_id

    async def sign_in(self, email: str, *, public_key: str | None = None) -> str:
        """The whole sign-in: ask for a code, read it from the e-mail, confirm it; the device session id."""
        before = len(self.neighbours.messages_to(email))
        challenge_id = await self.send(email)
        code = await self.neighbours.code_for(email, before + 1)
        return await self.confirm(challenge_id, code, public_key=public_key)

    async def session(self, device_session_id: str) -> auth_pb2.DeviceSession:
        return await self.stub.InternalSessionsGet(
            auth_pb2.InternalSessionsGetRequest(device_session_id=device_session_id)
        )

    async def fetch(self, sql: str, **params) -> list[dict]:
        """Rows of a read-only query on the database (assertions on what auth stored)."""
        engine = create_engine(self.settings.database_dsn(), pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                return [dict(row) for row in (await conn.execute(sa.text(sql), params)).mappings()]
        finally:
            await engine.dispose()

    async def execute(self, sql: str, **params) -> int:
        """Run one statement and commit (tests move stored times instead of sleeping); rows affected."""
        engine = create_engine(self.settings.database_dsn(), pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as conn:
                return (await conn.execute(sa.text(sql), params)).rowcount
        finally:
            await engine.dispose()


async def rpc_error(call) -> grpc.aio.AioRpcError:
    """The status an awaited RPC failed with (fails the test when it succeeded)."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value


@contextmanager
def mail_process(*, database_url: str, kafka_bootstrap: str, smtp_host: str, smtp_port: int, log_path: Path):
    """The real mail service as its own process (`python -m galaxy_mail`), so a test can SIGSTOP it.

    Yields (process, gRPC target) once it serves; stops it (resumed first) on exit.
    """
    target = f"127.0.0.1:{free_port()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GALAXY_")}
    env.update(
        GALAXY_DATABASE_URL=database_url,
        GALAXY_KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        GALAXY_GRPC_LISTEN_ADDR=target,
        GALAXY_SMTP_HOST=smtp_host,
        GALAXY_SMTP_PORT=str(smtp_port),
        GALAXY_MAIL_POLL_INTERVAL_SECONDS="0.2",
        GALAXY_LOG_FORMAT="json",
    )
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "galaxy_mail"], env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, target
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
