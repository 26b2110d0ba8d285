"""Benchmark: time from an account deletion request to the last of its sessions revoked (p50, p99).

    uv run --frozen python bench/account_deletion_cascade.py [--accounts 50] [--sessions 2]

Starts the whole embedded stack (private PostgreSQL, embedded broker, every
service and the edge as processes, on free ports) in a temporary directory,
signs `--accounts` users in over the edge `--sessions` times each (codes read
from the .eml files), then deletes the accounts one after another through
`POST /api/v1/user/account/delete`. The cascade under test: account commits
the deletion and its lifecycle event (outbox) → the relay publishes to the
broker → auth's consumer revokes every session (inbox row + revocations in one
transaction).

Latency of one account = the latest `revoked_at` of its sessions (auth's
database clock, the revoking transaction's start) − the wall-clock instant just
before its delete request was sent (same machine, same clock). Printed as
p50/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from galaxy_devstack.smtp_sink import read_messages
from galaxy_devstack.stack import Stack
from nacl.signing import SigningKey

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def sign_in(http: httpx.Client, mail_dir: Path, address: str) -> str:
    def count() -> list:
        return [m for m in read_messages(mail_dir) if address in (m.get_all("Delivered-To") or [])]

    before = len(count())
    sent = http.post("/api/v1/public/auth/send-email-code", json={"email": address})
    sent.raise_for_status()
    deadline = time.monotonic() + 30
    while len(messages := count()) <= before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no login code for {address}")
        time.sleep(0.02)
    [code] = CODE.findall(messages[before].get_body(preferencelist=("plain",)).get_content())
    key = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    confirmed = http.post("/api/v1/public/auth/confirm-email-code", json={
        "challenge_id": sent.json()["challenge_id"], "code": code, "client_public_key": key, "time_zone": "UTC",
    })
    confirmed.raise_for_status()
    return confirmed.json()["device_session_id"]


async def last_revocations(dsn: str, user_ids: list[str]) -> dict[str, tuple[int, datetime | None]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT user_id::text AS user_id, count(*) FILTER (WHERE status = 'active') AS active,"
            " max(revoked_at) AS last FROM auth.device_sessions WHERE user_id = ANY($1::uuid[]) GROUP BY user_id",
            user_ids,
        )
        return {r["user_id"]: (r["active"], r["last"]) for r in rows}
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=2, help="device sessions per account")
    parser.add_argument("--keep", action="store_true", help="keep the state directory (logs)")
    args = parser.parse_args()

    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-bench-cascade-"))
    stack = Stack(state_dir, free_ports=True, admin_username="admin", admin_password=f"bench-{uuid.uuid4().hex}",
                  pg_fsync=False, out=sys.stderr)
    stack.start()
    try:
        with httpx.Client(base_url=stack.edge_url, timeout=30.0) as http:
            users: list[tuple[str, list[str]]] = []
            begun = time.monotonic()
            for n in range(args.accounts):
                address = f"bench-{n}-{uuid.uuid4().hex[:8]}@example.test"
                devices = [sign_in(http, stack.mail_dir, address) for _ in range(args.sessions)]
                user_id = http.get(f"/api/v1/internal/sessions/{devices[0]}").json()["user_id"]
                users.append((user_id, devices))
            print(f"signed in {args.accounts} accounts x {args.sessions} sessions in "
                  f"{time.monotonic() - begun:.1f}s", file=sys.stderr)

            requested: dict[str, datetime] = {}
            for user_id, _ in users:
                requested[user_id] = datetime.now(UTC)
                response = http.post("/api/v1/user/account/delete", headers={"X-User-ID": user_id})
                if response.status_code != 204:
                    raise RuntimeError(f"delete answered {response.status_code}: {response.text}")

            ids = [user_id for user_id, _ in users]
            deadline = time.monotonic() + 120
            while True:
                state = asyncio.run(last_revocations(stack.database_url, ids))
                if all(state.get(u, (1, None))[0] == 0 for u in ids):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("some sessions were not revoked within 120 s")
                time.sleep(0.2)

        latencies = [(state[u][1] - requested[u]).total_seconds() * 1000 for u in ids]
        print(f"account deletion → last session revoked, {len(latencies)} accounts x {args.sessions} sessions:")
        print(f"  p50 {percentile(latencies, 50):8.1f} ms")
        print(f"  p99 {percentile(latencies, 99):8.1f} ms")
        print(f"  max {max(latencies):8.1f} ms   mean {statistics.fmean(latencies):.1f} ms")
        return 0
    finally:
        stack.stop(quiet=True)
        if args.keep:
            print(f"state kept in {state_dir}", file=sys.stderr)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
