"""Benchmark: what SMTP PIPELINING (RFC 2920) would save mail per message, against smtp-sink.

aiosmtplib (mail's client) sends MAIL, RCPT, DATA and the content as four
round trips and cannot pipeline (docs/mail.md, "No pipelining"). This sends
the same login-code-sized messages over `--connections` connections to
Postfix's native smtp-sink (bench/sinks.py) twice: with aiosmtplib's
`sendmail`, and with a minimal pipelined conversation written on asyncio
streams (MAIL, RCPT and DATA in one write, then the content: two round trips).
It prints messages per second and the CPU per message of the client and of
the sink for each, so the saving can be weighed against writing and keeping
an SMTP client of our own. Measurement only: the pipelined client here has no
TLS, AUTH, refusal handling or timeouts.

Run: `uv run python bench/smtp_pipelining.py [--messages 5000] [--connections 8]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hotpaths import cpu_seconds  # noqa: E402
from sinks import start_sink, stop_sink  # noqa: E402

SENDER = "no-reply@galaxy.local"


def message(n: int) -> bytes:
    return (
        'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        f"From: Galaxy <{SENDER}>\r\nTo: player-{n}@bench.test\r\nSubject: Your Galaxy login code\r\n"
        f"Message-ID: <{n}@galaxy.local>\r\n\r\n"
        f"Hello,\r\n\r\nyour Galaxy login code is:\r\n\r\n    {n % 1_000_000:06d}\r\n\r\n"
        "It is valid for 10 minutes.\r\n"
    ).encode()


async def aiosmtplib_lane(port: int, numbers: range) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.local")
    await client.connect()
    for n in numbers:
        await client.sendmail(SENDER, [f"player-{n}@bench.test"], message(n))
    await client.quit()


async def reply(reader: asyncio.StreamReader) -> int:
    while True:
        line = await reader.readline()
        if line[3:4] != b"-":
            return int(line[:3])


async def pipelined_lane(port: int, numbers: range) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reply(reader)
    writer.write(b"EHLO bench.local\r\n")
    assert await reply(reader) == 250
    for n in numbers:
        writer.write(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<player-{n}@bench.test>\r\nDATA\r\n".encode())
        codes = [await reply(reader) for _ in range(3)]
        assert codes == [250, 250, 354], codes
        writer.write(message(n) + b".\r\n")  # no line of these messages starts with a dot
        assert await reply(reader) == 250
    writer.write(b"QUIT\r\n")
    await reply(reader)
    writer.close()


def measure(name: str, lane, messages: int, connections: int) -> None:  # type: ignore[no-untyped-def]
    directory = Path(tempfile.mkdtemp(prefix="galaxy-pipelining-bench-"))
    os.chmod(directory, 0o755)
    sink, port = start_sink(directory / "mail", "native")
    try:
        cpu0, own0, t0 = cpu_seconds(sink.pid), cpu_seconds(os.getpid()), time.monotonic()

        async def drive() -> None:
            await asyncio.gather(*(lane(port, range(i, messages, connections)) for i in range(connections)))

        uvloop.run(drive())  # as the services run
        elapsed, cpu = time.monotonic() - t0, cpu_seconds(sink.pid) - cpu0
        own = cpu_seconds(os.getpid()) - own0
    finally:
        stop_sink(sink)
        shutil.rmtree(directory, ignore_errors=True)
    print(f"{name}: {messages} messages over {connections} connections in {elapsed:.2f} s: "
          f"{messages / elapsed:.0f} messages/s, client CPU {own * 1000 / messages:.3f} ms per message, "
          f"sink {cpu * 1000 / messages:.3f} ms, load average {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.rounds):
        measure("aiosmtplib sendmail (4 round trips)", aiosmtplib_lane, args.messages, args.connections)
        measure("pipelined (2 round trips)", pipelined_lane, args.messages, args.connections)


if __name__ == "__main__":
    main()
