"""Services and edges a suite module starts by itself, on free ports, for tests that need their
own settings or several edge replicas (the edge cache tests): started, awaited, and stopped.

Importable from the tests of this directory (conftest.py puts it on sys.path).

    with LocalProcesses(logs) as local:
        account = local.service("account", dsn, bootstrap)
        edges = [local.edge(f"edge-{i}", {"account": account.target}, bootstrap) for i in (0, 1)]
        local.wait_ready(account, *edges, following=edges)
        ...
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from galaxy_kit.testing import free_port
from grpc_health.v1 import health_pb2, health_pb2_grpc

#: A process's start on a loaded machine (the whole suite's tests run beside it).
STARTUP_TIMEOUT_SECONDS = 180.0
#: The services an edge names a target for (a target nothing listens on for those not started).
SERVICES = ("auth", "account", "lobby", "runtime", "mail", "notify", "geo")
#: A broker address nothing listens on: an edge given it has no event feed.
NO_BROKER = "127.0.0.1:1"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path
    #: A service's gRPC target, or an edge's HTTP base URL.
    target: str
    #: A service's Prometheus endpoint, when it was given one.
    metrics_url: str | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def is_edge(self) -> bool:
        return self.target.startswith("http://")


class LocalProcesses:
    """The processes of one suite module; `with` stops every one of them at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[Process] = []

    def __enter__(self) -> LocalProcesses:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:
            process.popen.terminate()
        for process in self.processes:
            try:
                process.popen.wait(15)
            except subprocess.TimeoutExpired:
                process.popen.kill()

    def spawn(self, name: str, module: str, env: dict[str, str], target: str,
              metrics_url: str | None = None) -> Process:
        log_path = self.logs / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", module],
                env={**os.environ, "GALAXY_LOG_FORMAT": "json", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, popen, log_path, target, metrics_url)
        self.processes.append(process)
        return process

    def service(self, name: str, dsn: str, bootstrap: str, env: dict[str, str] | None = None, *,
                metrics: bool = False) -> Process:
        """`galaxy_<name>` serving gRPC on a free port (and Prometheus on another if `metrics`)."""
        target = f"127.0.0.1:{free_port()}"
        own = {"GALAXY_DATABASE_URL": dsn, "GALAXY_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
               "GALAXY_GRPC_LISTEN_ADDR": target}
        metrics_url = None
        if metrics:
            metrics_addr = f"127.0.0.1:{free_port()}"
            own["GALAXY_METRICS_LISTEN_ADDR"] = metrics_addr
            metrics_url = f"http://{metrics_addr}/metrics"
        return self.spawn(name, f"galaxy_{name}", {**own, **(env or {})}, target, metrics_url)

    def edge(self, name: str, targets: dict[str, str], bootstrap: str,
             env: dict[str, str] | None = None) -> Process:
        """An edge on a free port, calling the given services (`NO_BROKER`: without a feed)."""
        port = free_port()
        own = {
            "BACKEND_HTTP_LISTEN_ADDR": f"127.0.0.1:{port}",
            "BACKEND_GRPC_PUSH_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
            "GALAXY_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            **{f"GALAXY_{s.upper()}_GRPC_TARGET": targets.get(s, "127.0.0.1:1") for s in SERVICES},
        }
        return self.spawn(name, "galaxy_edge", {**own, **(env or {})}, f"http://127.0.0.1:{port}")

    def wait_ready(self, *processes: Process, following: Iterable[Process] = ()) -> None:
        """Every service serving, every edge answering, and the edges in `following` with their
        event feed caught up (an edge's caches are trusted only then)."""
        for process in processes:
            if process.is_edge:
                wait_until(lambda p=process: httpx.get(f"{p.target}/healthz", timeout=2).status_code == 200,
                           "the edge did not answer", process)
            else:
                wait_until(lambda p=process: serving(p.target), f"{process.name} did not serve", process)
        for edge in following:
            wait_until(lambda e=edge: "event feed caught up" in e.log(),
                       "the edge's event feed never caught up", edge)


def wait_until(predicate: Callable[[], bool], what: str, process: Process) -> None:
    """Until `predicate` holds; fails with the process's log if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        assert process.popen.poll() is None, f"{process.name} exited:\n{process.log()[-3000:]}"
        try:
            if predicate():
                return
        except (httpx.TransportError, grpc.RpcError):
            pass
        assert time.monotonic() < deadline, f"{what}:\n{process.log()[-3000:]}"
        time.sleep(0.2)


def serving(target: str) -> bool:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
    return reply.status == health_pb2.HealthCheckResponse.SERVING
