"""Settings from the environment, and `python -m galaxy_edge` as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from galaxy_edge.settings import EdgeSettings, split_host_port
from galaxy_kit.testing import free_port

#: Importing the edge on a loaded two-core machine has taken over 30 s; generous on purpose.
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 15.0
TARGET_VARIABLES = [
    "GALAXY_AUTH_GRPC_TARGET",
    "GALAXY_ACCOUNT_GRPC_TARGET",
    "GALAXY_LOBBY_GRPC_TARGET",
    "GALAXY_RUNTIME_GRPC_TARGET",
    "GALAXY_MAIL_GRPC_TARGET",
    "GALAXY_NOTIFY_GRPC_TARGET",
    "GALAXY_GEO_GRPC_TARGET",
]


def test_defaults_are_the_embedded_ones(monkeypatch) -> None:
    for name in ["BACKEND_HTTP_LISTEN_ADDR", "BACKEND_GRPC_PUSH_LISTEN_ADDR", *TARGET_VARIABLES]:
        monkeypatch.delenv(name, raising=False)
    settings = EdgeSettings()
    assert settings.http_listen_addr == "127.0.0.1:8080"
    assert settings.push_listen_addr == "127.0.0.1:8081"
    assert list(settings.grpc_targets().items()) == [
        ("auth", "127.0.0.1:50051"),
        ("account", "127.0.0.1:50052"),
        ("lobby", "127.0.0.1:50053"),
        ("runtime", "127.0.0.1:50054"),
        ("mail", "127.0.0.1:50055"),
        ("notify", "127.0.0.1:50056"),
        ("geo", "127.0.0.1:50057"),
    ]


def test_the_environment_overrides_every_address(monkeypatch) -> None:
    monkeypatch.setenv("BACKEND_HTTP_LISTEN_ADDR", "0.0.0.0:9000")
    monkeypatch.setenv("BACKEND_GRPC_PUSH_LISTEN_ADDR", "0.0.0.0:9001")
    for index, name in enumerate(TARGET_VARIABLES):
        monkeypatch.setenv(name, f"svc-{index}:7000")
    monkeypatch.setenv("GALAXY_LOG_LEVEL", "debug")
    settings = EdgeSettings()
    assert (settings.http_listen_addr, settings.push_listen_addr) == (
        "0.0.0.0:9000",
        "0.0.0.0:9001",
    )
    assert list(settings.grpc_targets().values()) == [f"svc-{i}:7000" for i in range(7)]
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::]:8080", ("::", 8080)),
        (":8080", ("0.0.0.0", 8080)),
    ],
)
def test_listen_addresses_split_into_host_and_port(addr, expected) -> None:
    assert split_host_port(addr) == expected


def test_a_listen_address_without_port_is_refused() -> None:
    with pytest.raises(ValueError):
        split_host_port("localhost")


async def test_the_process_serves_rest_and_push_and_stops_cleanly_on_sigterm(tmp_path) -> None:
    http_port, push_port = free_port(), free_port()
    env = {
        **os.environ,
        "BACKEND_HTTP_LISTEN_ADDR": f"127.0.0.1:{http_port}",
        "BACKEND_GRPC_PUSH_LISTEN_ADDR": f"127.0.0.1:{push_port}",
        "GALAXY_LOG_FORMAT": "json",
        **{name: "127.0.0.1:1" for name in TARGET_VARIABLES},
    }
    log_path = tmp_path / "edge.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "galaxy_edge",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
            deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_SECONDS
            while True:
                assert process.returncode is None, log_path.read_text()
                try:
                    live = await client.get("/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert asyncio.get_running_loop().time() < deadline, "edge did not start"
                    await asyncio.sleep(0.1)
            ready = await client.get("/readyz", timeout=5)
            unknown = await client.get("/nope", timeout=5)
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        # Nothing downstream is running: not ready, in the envelope.
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "service_unavailable"
        assert unknown.status_code == 404
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
        assert code == 0, log_path.read_text()
        log_lines = [line for line in log_path.read_text().splitlines() if line.strip()]
        assert log_lines, "the edge logged nothing"
        for line in log_lines:
            assert json.loads(line)["service"] == "edge"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
