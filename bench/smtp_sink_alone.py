"""Benchmark: what an SMTP sink takes alone, in its own process.

Starts each sink of bench/sinks.py (Postfix's native smtp-sink, the Python
development sink `python -m galaxy_devstack.smtp_sink`) on a free port in a
temporary directory and sends it `--messages` login-code-sized messages over
`--connections` connections (aiosmtplib, each connection reused for its share,
the way mail's worker sends), then prints messages per second and the CPU
milliseconds per message of the sink and of the client. docs/performance.md ("Sign-in and admin checks")
quotes it: the send-email-code goal can only be measured with a sink faster
than the goal.

Run: `uv run python bench/smtp_sink_alone.py [--messages 5000] [--connections 8] [--sink native python]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from email.mime.text import MIMEText
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hotpaths import cpu_seconds  # noqa: E402
from sinks import KINDS, message_files, start_sink, stop_sink  # noqa: E402


def message(n: int) -> MIMEText:
    body = f"Hello,\n\nyour Galaxy login code is:\n\n    {n % 1_000_000:06d}\n\nIt is valid for 10 minutes.\n"
    mail = MIMEText(body, "plain", "utf-8")
    mail["From"] = "Galaxy <no-reply@galaxy.local>"
    mail["To"] = f"player-{n}@bench.test"
    mail["Subject"] = "Your Galaxy login code"
    mail["Message-ID"] = f"<{n}@galaxy.local>"
    return mail


async def lane(port: int, numbers: range) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.local")
    await client.connect()
    try:
        for n in numbers:
            await client.send_message(message(n), sender="no-reply@galaxy.local", recipients=[f"player-{n}@bench.test"])
    finally:
        await client.quit()


async def drive(port: int, messages: int, connections: int) -> None:
    await asyncio.gather(*(lane(port, range(i, messages, connections)) for i in range(connections)))


def measure(kind: str, messages: int, connections: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="galaxy-sink-bench-"))
    os.chmod(directory, 0o755)
    sink, port = start_sink(directory / "mail", kind)
    try:
        cpu0, own0, t0 = cpu_seconds(sink.pid), cpu_seconds(os.getpid()), time.monotonic()
        asyncio.run(drive(port, messages, connections))
        elapsed, cpu = time.monotonic() - t0, cpu_seconds(sink.pid) - cpu0
        own = cpu_seconds(os.getpid()) - own0
        written = len(message_files(directory / "mail"))
    finally:
        stop_sink(sink)
        shutil.rmtree(directory, ignore_errors=True)
    print(f"smtp sink alone ({kind}): {messages} messages over {connections} connections in {elapsed:.2f} s: "
          f"{messages / elapsed:.0f} messages/s, sink CPU {cpu * 1000 / messages:.3f} ms per message "
          f"(the client, aiosmtplib as mail sends: {own * 1000 / messages:.2f} ms), "
          f"{written} files written, load average {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sink", choices=KINDS, nargs="*", default=list(KINDS))
    args = parser.parse_args()
    for kind in args.sink:
        measure(kind, args.messages, args.connections)


if __name__ == "__main__":
    main()
