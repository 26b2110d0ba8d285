"""The Docker-API driver: one container per game through the Docker Engine API (`docker` SDK).

Works with Docker and with podman's Docker-compatible service. Each container is labelled with
runtime's label and the game id, runs the version's image as a non-root user with `--init`,
memory, CPU and pid limits, no capabilities and no new privileges, keeps the game on the named
volume `galaxy-engine-<game_id>` (so a replaced container resumes the game), and publishes the
contract's port 8000 on the engine host's loopback at a port the engine API picks.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import docker
from docker.errors import DockerException, ImageNotFound, NotFound

from galaxy_runtime.drivers.base import DriverError, EngineHandle, FoundEngine

LABEL = "galaxy.runtime"
LABEL_VALUE = "engine"
GAME_LABEL = "galaxy.game_id"
STATE_MOUNT = "/var/lib/galaxy-engine"
ENGINE_PORT = "8000/tcp"
ENGINE_USER = "10001:10001"
STOP_TIMEOUT_SECONDS = 5


def container_name(game_id: str) -> str:
    return f"galaxy-engine-{game_id}"


def volume_name(game_id: str) -> str:
    return f"galaxy-engine-{game_id}"


class DockerDriver:
    name = "docker"

    def __init__(self, *, base_url: str, engine_host: str, memory: str, cpus: float, pids_limit: int,
                 publish_addr: str = "127.0.0.1") -> None:
        self._client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        self._engine_host = engine_host
        self._publish_addr = publish_addr
        self._memory = memory
        self._nano_cpus = int(cpus * 1e9)
        self._pids_limit = pids_limit

    async def create(self, game_id: str, image_ref: str) -> EngineHandle:
        return await asyncio.to_thread(self._create, game_id, image_ref)

    def _create(self, game_id: str, image_ref: str) -> EngineHandle:
        self._remove(game_id)
        try:
            container = self._client.containers.run(
                image_ref, detach=True, name=container_name(game_id),
                labels={LABEL: LABEL_VALUE, GAME_LABEL: game_id},
                volumes={volume_name(game_id): {"bind": STATE_MOUNT, "mode": "rw"}},
                ports={ENGINE_PORT: (self._publish_addr, None)},
                user=ENGINE_USER, init=True, mem_limit=self._memory, nano_cpus=self._nano_cpus,
                pids_limit=self._pids_limit, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                environment={"GALAXY_ENGINE_LISTEN": "0.0.0.0:8000", "GALAXY_ENGINE_STATE_DIR": STATE_MOUNT},
            )
            container.reload()
            bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(ENGINE_PORT) or []
        except ImageNotFound:
            raise DriverError(f"image {image_ref} is not available to the container engine") from None
        except DockerException as error:
            raise DriverError(f"the container engine refused: {error}") from None
        if not bindings:
            self._remove(game_id)
            raise DriverError("the container engine published no port for the engine")
        return EngineHandle(game_id, container.id, f"http://{self._engine_host}:{bindings[0]['HostPort']}")

    async def remove(self, game_id: str) -> None:
        await asyncio.to_thread(self._remove, game_id)

    def _remove(self, game_id: str) -> None:
        try:
            container = self._client.containers.get(container_name(game_id))
        except NotFound:
            return
        except DockerException as error:
            raise DriverError(f"the container engine refused: {error}") from None
        try:
            container.stop(timeout=STOP_TIMEOUT_SECONDS)
        except DockerException:
            pass  # already stopped; removing is what matters
        try:
            container.remove(force=True)
        except NotFound:
            pass
        except DockerException as error:
            raise DriverError(f"the container engine refused: {error}") from None

    async def alive(self, game_id: str, ref: str) -> bool:
        def check() -> bool:
            try:
                container = self._client.containers.get(ref)
            except DockerException:
                return False
            return container.status == "running"
        return await asyncio.to_thread(check)

    async def list_engines(self) -> list[FoundEngine]:
        def listing() -> list[FoundEngine]:
            found = []
            for container in self._client.containers.list(all=True, filters={"label": f"{LABEL}={LABEL_VALUE}"}):
                created = container.attrs.get("Created") or ""
                try:
                    when = datetime.fromisoformat(created[:26].rstrip("Z")).replace(tzinfo=UTC)
                except ValueError:
                    when = datetime.now(UTC)
                found.append(FoundEngine(container.labels.get(GAME_LABEL, ""), container.id, when))
            return found
        return await asyncio.to_thread(listing)

    async def remove_volume(self, game_id: str) -> None:
        def drop() -> None:
            try:
                self._client.volumes.get(volume_name(game_id)).remove(force=True)
            except NotFound:
                pass
        await asyncio.to_thread(drop)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)
