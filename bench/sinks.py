"""The SMTP sink the benchmarks send mail to, in a process of its own, and how to read what it got.

Two kinds, chosen with `--sink`:

- `native` (the default): Postfix's `smtp-sink`, a small C server made for load tests, which
  tools/bootstrap.sh unpacks into .tools/postfix (the program and Postfix's private libraries
  only; no Postfix daemon is installed). Every message is dumped to a file of its own
  (`-d`), named `<UTC %Y%m%dT%H%M%S>.<random hex>`; the file's modification time is the message's
  arrival (its last write is the end of DATA). It costs a fraction of the Python sink's CPU per
  message (bench/smtp_sink_alone.py measures both; docs/performance.md), so at the goal's 500
  codes a second the test equipment no longer takes the CPU the services are measured with.
- `python`: the development sink `make up` and the tests use (galaxy_devstack.smtp_sink,
  aiosmtpd), one `<timestamp with ns>Z-<uuid>.eml` file per message, named at arrival.

Either way a file holds the message as received, after trace headers naming the envelope
recipients (`Delivered-To: addr` from the Python sink, `X-Rcpt-Args: <addr>` from smtp-sink).
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
import time
from email.message import Message
from pathlib import Path

from galaxy_kit.testing import free_port

KINDS = ("native", "python")
TOOLS = Path(__file__).resolve().parent.parent / ".tools" / "postfix"
NATIVE_SINK = TOOLS / "smtp-sink"
#: smtp-sink refuses to run as root without a user to switch to; it then writes as that user.
UNPRIVILEGED_USER = "nobody"


def start_sink(directory: Path, kind: str = "native") -> tuple[subprocess.Popen, int]:
    """Start a sink writing one file per message under `directory`; its process and port."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if kind == "native":
        if not os.access(NATIVE_SINK, os.X_OK):
            raise SystemExit(f"{NATIVE_SINK} is missing: run `make bootstrap` (or use --sink python)")
        command = [str(NATIVE_SINK), "-d", f"{directory}/%Y%m%dT%H%M%S."]
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(directory, user.pw_uid, user.pw_gid)
            command += ["-u", UNPRIVILEGED_USER]
        # At most 512 connections at once, and a listen backlog of 256.
        command += ["-m", "512", f"127.0.0.1:{port}", "256"]
        env = {**os.environ, "LD_LIBRARY_PATH": str(TOOLS / "lib")}
    else:
        command = [sys.executable, "-m", "galaxy_devstack.smtp_sink", "--dir", str(directory), "--port", str(port)]
        env = None
    sink = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink, port
        except OSError:
            if sink.poll() is not None or time.monotonic() > deadline:
                sink.kill()
                raise SystemExit(f"the SMTP sink ({kind}) did not start") from None
            time.sleep(0.1)


def stop_sink(sink: subprocess.Popen) -> None:
    sink.terminate()
    try:
        sink.wait(10)
    except subprocess.TimeoutExpired:
        sink.kill()
        sink.wait()


def message_files(directory: Path) -> list[Path]:
    """Every message file either sink wrote (both name them after the date; the Python sink's
    half-written files are hidden `.tmp` ones). smtp-sink's file exists while its message is
    still arriving: a reader that finds no code in it reads it again later."""
    try:
        return [Path(entry.path) for entry in os.scandir(directory) if entry.name[:1].isdigit()]
    except FileNotFoundError:
        return []


def arrival_ns(path: Path) -> int:
    """When the message arrived, in ns since the epoch."""
    if path.name.endswith(".eml"):  # the Python sink: `<UTC %Y%m%dT%H%M%S>.<ns>Z-<uuid>.eml`
        stamp, fraction = path.name.split("Z-", 1)[0].split(".")
        seconds = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%S")) - time.timezone
        return int(seconds) * 1_000_000_000 + int(fraction)
    return path.stat().st_mtime_ns  # smtp-sink: the last write, at the end of DATA


def recipients(message: Message) -> list[str]:
    """The envelope recipients the sink recorded."""
    found = list(message.get_all("Delivered-To") or [])
    for args in message.get_all("X-Rcpt-Args") or []:
        found.append(str(args).split()[0].strip("<>"))
    return found
