"""Benchmark: sign-ins per second, and what a repeated admin Basic-auth check costs.

Starts the whole suite (every process, private PostgreSQL, embedded broker,
the local SMTP sink) on free ports in a temporary state directory, then drives
the edge over HTTP exactly as the gateway would:

- admin check: the first request with valid credentials (pays bcrypt cost 12),
  then repeated requests (served from auth's verified-credential cache), and
  requests with a wrong password (always pay bcrypt) for comparison;
- sign-in: send-email-code → read the code from the .eml the SMTP sink wrote →
  confirm-email-code, for many distinct addresses with bounded concurrency.

Run: `uv run python bench/sign_in.py [--sign-ins 100] [--concurrency 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email
import os
import re
import shutil
import statistics
import tempfile
import time
import uuid
from email import policy
from pathlib import Path

import httpx
from galaxy_devstack.stack import Stack
from nacl.signing import SigningKey

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
ADMIN_ROUTE = "/api/v1/admin/admin-accounts"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


class MailIndex:
    """Codes by recipient, read incrementally from the SMTP sink's .eml files."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self.seen: set[str] = set()
        self.codes: dict[str, str] = {}

    def refresh(self) -> None:
        for path in sorted(self.mail_dir.glob("*.eml")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",)).get_content()
            for recipient in message.get_all("Delivered-To") or []:
                self.codes[recipient] = CODE.findall(body)[0]

    async def code_for(self, address: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while address not in self.codes:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no mail to {address}")
            await asyncio.sleep(0.02)
            self.refresh()
        return self.codes[address]


async def admin_check_costs(client: httpx.AsyncClient, auth: tuple[str, str], repeats: int) -> None:
    started = time.perf_counter()
    first = await client.get(ADMIN_ROUTE, auth=auth)
    cold = time.perf_counter() - started
    assert first.status_code == 200, first.text
    warm = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = await client.get(ADMIN_ROUTE, auth=auth)
        warm.append(time.perf_counter() - started)
        assert response.status_code == 200
    wrong = []
    for _ in range(5):
        started = time.perf_counter()
        response = await client.get(ADMIN_ROUTE, auth=(auth[0], "not-the-password"))
        wrong.append(time.perf_counter() - started)
        assert response.status_code == 401
    print("admin Basic-auth check through the edge (GET /api/v1/admin/admin-accounts)")
    print(f"  first valid check (bcrypt cost 12): {ms(cold)}")
    print(f"  repeated valid checks, n={repeats}:   p50 {ms(statistics.median(warm))}  p99 {ms(percentile(warm, 0.99))}")
    print(f"  wrong password (always bcrypt), n=5: p50 {ms(statistics.median(wrong))}")


async def sign_ins(client: httpx.AsyncClient, mail: MailIndex, count: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one() -> None:
        address = f"bench-{uuid.uuid4().hex[:12]}@example.test"
        key = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
        async with gate:
            started = time.perf_counter()
            sent = await client.post("/api/v1/public/auth/send-email-code", json={"email": address})
            assert sent.status_code == 200, sent.text
            code = await mail.code_for(address)
            confirmed = await client.post(
                "/api/v1/public/auth/confirm-email-code",
                json={"challenge_id": sent.json()["challenge_id"], "code": code,
                      "client_public_key": key, "time_zone": "UTC"},
            )
            assert confirmed.status_code == 200, confirmed.text
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - started
    print(f"sign-in (send code → mail delivered over SMTP → confirm), n={count}, concurrency={concurrency}")
    print(f"  throughput: {count / elapsed:8.1f} sign-ins/s")
    print(f"  latency:    p50 {ms(statistics.median(latencies))}  p99 {ms(percentile(latencies, 0.99))}")


async def run(args: argparse.Namespace, stack: Stack) -> None:
    mail = MailIndex(stack.mail_dir)
    async with httpx.AsyncClient(base_url=stack.edge_url, timeout=60.0) as client:
        await admin_check_costs(client, stack.admin_auth, args.admin_checks)
        await sign_ins(client, mail, args.sign_ins, args.concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sign-ins", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--admin-checks", type=int, default=200)
    args = parser.parse_args()
    # /var/tmp, not a 0700 mkdtemp under /tmp: the private PostgreSQL runs as `postgres`.
    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-bench-", dir="/var/tmp"))
    os.chmod(state_dir, 0o755)
    stack = Stack(state_dir, free_ports=True, pg_fsync=False, admin_username="bench-admin",
                  admin_password=f"bench-{uuid.uuid4().hex}", out=open(os.devnull, "w"))
    stack.start()
    try:
        asyncio.run(run(args, stack))
    finally:
        stack.stop(quiet=True)
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
