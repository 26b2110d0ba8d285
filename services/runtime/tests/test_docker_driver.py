"""The Docker-API driver against a real container engine: podman serving the Docker Engine API, the
reference engine image built locally (tools/container_engine.sh). Nothing here is skipped: when the
container tier cannot run, the fixture fails with the reason."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import grpc
import httpx
import pytest
from galaxy.runtime.v1 import runtime_pb2 as pb
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE
from galaxy_runtime.drivers.docker import GAME_LABEL, DockerDriver, volume_name
from runtime_helpers import Runtime, runtime_settings
from test_engine_versions import create
from test_lifecycle import _replaced, _status_is, engine_game, runtime_row, start_request, until

ROOT = Path(__file__).resolve().parents[3]
STATE = Path(os.environ.get("GALAXY_CONTAINER_TEST_DIR", "/var/tmp/galaxy-runtime-containers"))


@pytest.fixture(scope="module")
def docker_api() -> Iterator[tuple[str, str]]:
    """(Docker API URL, engine image): podman's API service on a private socket for this module."""
    made = subprocess.run(["bash", str(ROOT / "tools" / "container_engine.sh"), str(STATE)],
                          check=False, capture_output=True, text=True, timeout=900)
    if made.returncode != 0:
        pytest.fail(f"the container tier cannot run here:\n{made.stderr[-3000:]}", pytrace=False)
    settings = dict(item.split("=", 1) for item in made.stdout.strip().splitlines()[-1].split())
    socket_path = STATE / f"podman-{os.getpid()}.sock"
    env = {**os.environ, "CONTAINERS_CONF": settings["CONTAINERS_CONF"]}
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket_path}"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not socket_path.exists():
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"podman's API service did not start: {service.stderr.read().decode()[-2000:]}",
                            pytrace=False)
            time.sleep(0.1)
        os.environ["CONTAINERS_CONF"] = settings["CONTAINERS_CONF"]
        yield f"unix://{socket_path}", settings["ENGINE_IMAGE"]
    finally:
        service.terminate()
        service.wait(timeout=30)
        socket_path.unlink(missing_ok=True)


def driver_for(url: str) -> DockerDriver:
    return DockerDriver(base_url=url, engine_host="127.0.0.1", memory="256m", cpus=0.5, pids_limit=128)


async def healthy(endpoint: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(endpoint + "/v1/health", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the engine container never became healthy"
            await asyncio.sleep(0.2)


async def test_a_container_per_game_labelled_limited_non_root_with_its_state_on_a_volume(docker_api):
    url, image = docker_api
    driver = driver_for(url)
    game_id = str(uuid.uuid4())
    try:
        handle = await driver.create(game_id, image)
        await healthy(handle.endpoint)
        async with httpx.AsyncClient(base_url=handle.endpoint) as client:
            init = await client.post("/v1/game", json={"seed": 7, "roster": [{"user_id": "a", "race": "Vega"},
                                                                              {"user_id": "b", "race": "Zeta"}]})
            assert init.status_code == 201, init.text
            assert (await client.post("/v1/turns/1")).json()["ran"] is True
        container = docker.DockerClient(base_url=url).containers.get(handle.ref)
        config = container.attrs["Config"]
        host = container.attrs["HostConfig"]
        assert config["Labels"][GAME_LABEL] == game_id and config["User"] == "10001:10001"
        assert host["Memory"] == 256 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
        assert host["PidsLimit"] == 128 and host["Init"] is True
        assert any(m.get("Name") == volume_name(game_id) for m in container.attrs["Mounts"])
        assert await driver.alive(game_id, handle.ref)
        assert game_id in {f.game_id for f in await driver.list_engines()}

        # Replaced container, same volume: the game goes on where it was.
        again = await driver.create(game_id, image)
        assert again.ref != handle.ref and not await driver.alive(game_id, handle.ref)
        await healthy(again.endpoint)
        assert (await engine_game(again.endpoint))["turn"] == 1

        await driver.remove(game_id)
        assert not await driver.alive(game_id, again.ref)
        assert game_id not in {f.game_id for f in await driver.list_engines()}
        await driver.remove(game_id)  # idempotent
    finally:
        await driver.remove(game_id)
        await driver.remove_volume(game_id)
        await driver.close()


async def test_runtime_with_the_docker_driver_starts_turns_restarts_and_stops(docker_api, fresh_database_dsn,
                                                                              kafka_bootstrap, tmp_path):
    url, image = docker_api
    settings = runtime_settings(fresh_database_dsn, kafka_bootstrap, str(tmp_path), runtime_driver="docker",
                                runtime_docker_url=url, runtime_engine_start_timeout_seconds=60.0)
    game_id = str(uuid.uuid4())
    async with running_service(SERVICE, settings) as service:
        from galaxy.runtime.v1 import runtime_pb2_grpc
        runtime = Runtime(runtime_pb2_grpc.RuntimeServiceStub(service.channel), fresh_database_dsn, settings)
        try:
            await create(runtime.stub, "1.0.0", image=image)
            await runtime.stub.StartRuntime(start_request(game_id))
            row = await until(lambda: _status_is(runtime, game_id, "running"), timeout=120)
            await runtime.stub.AdminRuntimesForceNextTurn(pb.AdminRuntimesForceNextTurnRequest(game_id=game_id))
            await until(lambda: _turn(runtime, game_id, 1), timeout=60)
            await runtime.stub.AdminRuntimesRestart(pb.AdminRuntimesRestartRequest(game_id=game_id))
            restarted = await until(lambda: _replaced(runtime, game_id, row["engine_ref"]), timeout=120)
            assert (await engine_game(restarted["endpoint"]))["turn"] == 1
            await runtime.stub.StopRuntime(pb.StopRuntimeRequest(game_id=game_id, reason="cancelled"))
            await until(lambda: _status_is(runtime, game_id, "stopped"), timeout=60)
            labelled = docker.DockerClient(base_url=url).containers.list(
                all=True, filters={"label": f"{GAME_LABEL}={game_id}"})
            assert labelled == []
        except grpc.aio.AioRpcError as error:
            raise AssertionError(error.details()) from None
        finally:
            driver = driver_for(url)
            await driver.remove(game_id)
            await driver.remove_volume(game_id)
            await driver.close()


async def _turn(runtime, game_id, turn):
    return (await runtime_row(runtime, game_id))["current_turn"] == turn
