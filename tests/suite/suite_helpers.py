"""Helpers of the suite tests: addresses, keys, reading login codes from the .eml files, signing in over HTTP.

Importable from the tests of this directory (conftest.py puts it on sys.path).
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import Callable

import asyncpg
import httpx
from nacl.signing import SigningKey

MAIL_TIMEOUT_SECONDS = 30.0
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def new_address(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.test"


def public_key() -> str:
    return base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


def messages_to(suite, address: str) -> list:
    return [m for m in suite.messages() if address in (m.get_all("Delivered-To") or [])]


def code_from_mail(suite, address: str, nth: int = 1) -> str:
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while len(messages := messages_to(suite, address)) < nth:
        assert time.monotonic() < deadline, f"no e-mail to {address} in {suite.mail_dir}"
        time.sleep(0.1)
    body = messages[nth - 1].get_body(preferencelist=("plain",)).get_content()
    [code] = CODE.findall(body)
    return code


def error_of(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.json()["error"]["code"] == code, response.text
    return response.json()["error"]


def sign_in(http: httpx.Client, suite, address: str, *, key: str | None = None, **send_extra) -> str:
    """The whole sign-in over the edge: ask for a code, read it from the e-mail, confirm; the device session id."""
    before = len(messages_to(suite, address))
    sent = http.post("/api/v1/public/auth/send-email-code", json={"email": address}, **send_extra)
    assert sent.status_code == 200, sent.text
    code = code_from_mail(suite, address, before + 1)
    confirmed = http.post(
        "/api/v1/public/auth/confirm-email-code",
        json={
            "challenge_id": sent.json()["challenge_id"],
            "code": code,
            "client_public_key": key or public_key(),
            "time_zone": "Europe/Berlin",
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    assert set(confirmed.json()) == {"device_session_id"}
    return confirmed.json()["device_session_id"]


def user_of(http: httpx.Client, device_session_id: str) -> str:
    """The user id of a device session (the gateway's lookup)."""
    looked_up = http.get(f"/api/v1/internal/sessions/{device_session_id}")
    assert looked_up.status_code == 200, looked_up.text
    return looked_up.json()["user_id"]


def as_user(user_id: str) -> dict:
    """The header the gateway sends for an authenticated user."""
    return {"X-User-ID": user_id}


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0, interval: float = 0.05) -> float:
    """Poll `check` until true; the seconds it took."""
    begun = time.monotonic()
    while not check():
        assert time.monotonic() - begun < timeout, f"timed out: {what}"
        time.sleep(interval)
    return time.monotonic() - begun


def query(suite, sql: str, *params) -> list[tuple]:
    """Rows of one statement run straight against the suite's database (to check effects)."""
    async def run() -> list[tuple]:
        conn = await asyncpg.connect(suite.database_url)
        try:
            return [tuple(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()

    return asyncio.run(run())


def grpc_calls_answered(metrics_url: str, method: str, code: str = "OK") -> float:
    """A service's count of `method` calls answered with `code` (its Prometheus counter)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(metrics_url, timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "galaxy_grpc_requests_total"
                and sample.labels.get("method") == method
                and sample.labels.get("code") == code
            ):
                return sample.value
    return 0.0
