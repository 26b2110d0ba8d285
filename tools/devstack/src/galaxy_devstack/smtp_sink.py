"""The local SMTP server of the embedded default: every message becomes one `.eml` file.

A real SMTP server (aiosmtpd) that accepts mail for anyone and writes each
message, exactly as received, under a directory (`$GALAXY_STATE_DIR/mail/`).
Two trace headers are prepended the way a delivering MTA does: `Return-Path`
(the envelope sender) and one `Delivered-To` per envelope recipient.

File names sort by arrival: `<UTC timestamp with nanoseconds>-<uuid>.eml`
(timestamps are kept strictly increasing inside one process). A file appears
atomically: it is written as a hidden `.<name>.tmp` and renamed, so a reader
globbing `*.eml` never sees half a message. Not fsynced: this is a
development sink, a message lost to a machine crash costs nothing, and an
fsync per message capped it at 40-100 messages a second on this machine's
disk, below what the sign-in benchmark sends (docs/performance.md).

Standalone: `python -m galaxy_devstack.smtp_sink --dir DIR --port 2525`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Self

from aiosmtpd.controller import Controller

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2525
EML_SUFFIX = ".eml"


class MaildirWriter:
    """Writes raw messages as `.eml` files whose names sort by arrival."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last_ns = 0

    def _next_timestamp_ns(self) -> int:
        with self._lock:
            now = max(time.time_ns(), self._last_ns + 1)
            self._last_ns = now
            return now

    def next_name(self) -> str:
        ns = self._next_timestamp_ns()
        seconds, fraction = divmod(ns, 1_000_000_000)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds))
        return f"{stamp}.{fraction:09d}Z-{uuid.uuid4().hex}{EML_SUFFIX}"

    def write(self, data: bytes) -> Path:
        name = self.next_name()
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final


def _trace_headers(mail_from: str, rcpt_tos: list[str]) -> bytes:
    lines = [f"Return-Path: <{mail_from}>"]
    lines += [f"Delivered-To: {rcpt}" for rcpt in rcpt_tos]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", errors="replace")


class _Handler:
    """aiosmtpd handler: accept every recipient, write every message."""

    def __init__(self, writer: MaildirWriter) -> None:
        self.writer = writer

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        data = _trace_headers(envelope.mail_from or "", list(envelope.rcpt_tos)) + content
        self.writer.write(data)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """A running (after `start`) SMTP server writing into `directory`."""

    directory: Path
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    _controller: Controller | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        writer = MaildirWriter(self.directory)
        controller = Controller(
            _Handler(writer),
            hostname=self.host,
            port=self.port,
            ready_timeout=10.0,
            enable_SMTPUTF8=True,
            server_hostname="galaxy-devstack",
        )
        controller.start()
        self._controller = controller

    @property
    def running(self) -> bool:
        controller = self._controller
        return controller is not None and controller._thread is not None and controller._thread.is_alive()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop(no_assert=True)
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def message_files(directory: Path) -> list[Path]:
    """The received messages' files, oldest first."""
    return sorted(Path(directory).glob(f"*{EML_SUFFIX}"))


def read_messages(directory: Path) -> list[EmailMessage]:
    """The received messages, parsed, oldest first."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in message_files(directory)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m galaxy_devstack.smtp_sink",
        description="A local SMTP server that writes every message as an .eml file.",
    )
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("GALAXY_STATE_DIR", ".galaxy")) / "mail")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("GALAXY_LOCAL_SMTP_PORT", DEFAULT_PORT))
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sink = SmtpSink(args.dir, args.port, args.host)
    sink.start()
    print(f"smtp sink listening on {args.host}:{args.port}, writing to {args.dir.resolve()}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
