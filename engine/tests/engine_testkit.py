"""Helpers for the engine's tests: games arranged directly in the state they need."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import httpx
import jsonschema
import yaml
from galaxy_engine.game import mapgen
from galaxy_engine.game.model import GameState, Group, Planet

ROSTER = [("Vogons", "user-1"), ("Zzyax", "user-2"), ("Camels", "user-3")]


def new_game(seed: int = 7, roster=ROSTER, turn_limit: int = 50) -> GameState:
    return mapgen.new_game(seed, list(roster), turn_limit)


def blank_game(races=("Vogons", "Zzyax"), planets: int = 4) -> GameState:
    """Races with home planets 1..n on a line 100 apart, and empty planets after them.

    Planet i (1-based) sits at x = 100 × (i - 1), y = 0, so distances are easy
    to reason about; tests move or rearrange planets as they need.
    """
    state = mapgen.new_game(1, [(r, f"user-{r}") for r in races], 50)
    state.planets = [
        Planet(id=i, name=f"P{i}", x=100 * (i - 1), y=0, size=500, resources=5)
        for i in range(1, planets + 1)
    ]
    for i, race in enumerate(races):
        p = state.planets[i]
        p.owner, p.population, p.industry = race, 1000, 1000
        p.size, p.resources = 1000, 10
    state.groups = []
    return state


def add_group(state: GameState, owner: str, ship_type: str, count: int, at: int, **kw) -> Group:
    g = Group(id=state.new_group_id(), owner=owner, ship_type=ship_type, count=count, at=at, **kw)
    state.groups.append(g)
    return g


# ------------------------------------------------------------------ the real process


class EngineProcess:
    """`python -m galaxy_engine` as a child process on a free port, driven over HTTP."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> EngineProcess:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        # The log goes to a file beside the state directory: a pipe nobody reads could fill.
        self.log = self.state_dir.parent / f"engine-{port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "galaxy_engine", "--state-dir", str(self.state_dir),
                 "--listen", f"127.0.0.1:{port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited {self.proc.returncode}: "
                                   f"{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"engine not healthy within {timeout}s")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed — a crash."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method: str, path: str, body: object = None) -> httpx.Response:
        content = None if body is None else json.dumps(body).encode()
        return httpx.request(method, f"{self.url}{path}", content=content, timeout=60,
                             headers={"content-type": "application/json"})

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, body: object = None) -> httpx.Response:
        return self.request("POST", path, {} if body is None else body)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONTRACT = yaml.safe_load(
    resources.files("galaxy_engine").joinpath("contract/engine.openapi.yaml").read_text()
)


def check_schema(instance: object, schema_name: str) -> None:
    """Fail unless `instance` matches the contract's components/schemas/<schema_name>."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": CONTRACT["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)
