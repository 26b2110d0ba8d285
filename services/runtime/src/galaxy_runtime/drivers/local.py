"""The local-process driver: each engine is `python -m galaxy_engine` on a free loopback port.

`<state_dir>/<game_id>/state` is the engine's state directory, `engine.json` records the running
process (pid, port, when), `engine.log` its output. The process runs in its own session, so it
outlives a runtime restart and is adopted by the next runtime on this machine (its pid file says
which process it is, its command line confirms it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from galaxy_runtime.drivers.base import DriverError, EngineHandle, FoundEngine

STOP_GRACE_SECONDS = 5.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_engine(pid: int, game_dir: Path) -> bool:
    """The pid is alive and is the engine of that directory (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie has exited
        return False
    return b"galaxy_engine" in cmdline and str(game_dir / "state").encode() in cmdline


class LocalProcessDriver:
    name = "local"

    def __init__(self, state_dir: str, python: str, *, stop_on_exit: bool = True, nice: int = 0) -> None:
        self._stop_on_exit = stop_on_exit
        self._nice = nice
        self._root = Path(state_dir).resolve()
        self._python = python
        self._children: dict[int, subprocess.Popen] = {}

    def _dir(self, game_id: str) -> Path:
        return self._root / game_id

    def _record(self, game_id: str) -> dict | None:
        try:
            return json.loads((self._dir(game_id) / "engine.json").read_text())
        except (OSError, ValueError):
            return None

    async def create(self, game_id: str, image_ref: str) -> EngineHandle:
        await self.remove(game_id)
        game_dir = self._dir(game_id)
        (game_dir / "state").mkdir(parents=True, exist_ok=True)
        port = _free_port()
        process = await asyncio.to_thread(self._spawn, game_dir, port)
        self._children[process.pid] = process
        if self._nice:
            # Engines yield the CPU to runtime: when every game's turn runs in the same second, the
            # engines busy with theirs must not starve the scheduler still sending the others.
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, process.pid, self._nice)
        record = {"pid": process.pid, "port": port, "created_at": datetime.now(UTC).isoformat()}
        (game_dir / "engine.json").write_text(json.dumps(record))
        return EngineHandle(game_id, f"pid:{process.pid}", f"http://127.0.0.1:{port}")

    def _spawn(self, game_dir: Path, port: int) -> subprocess.Popen:
        with open(game_dir / "engine.log", "ab") as log:
            try:
                return subprocess.Popen(
                    [self._python, "-m", "galaxy_engine", "--state-dir", str(game_dir / "state"),
                     "--listen", f"127.0.0.1:{port}"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as error:
                raise DriverError(f"cannot start the engine process: {error}") from None

    async def remove(self, game_id: str) -> None:
        record = self._record(game_id)
        if record is None:
            return
        pid = int(record["pid"])
        if _is_engine(pid, self._dir(game_id)):
            os.kill(pid, signal.SIGTERM)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + STOP_GRACE_SECONDS
            while _is_engine(pid, self._dir(game_id)) and loop.time() < deadline:
                self._reap(pid)
                await asyncio.sleep(0.05)
            if _is_engine(pid, self._dir(game_id)):
                os.kill(pid, signal.SIGKILL)
        self._reap(pid)
        (self._dir(game_id) / "engine.json").unlink(missing_ok=True)

    def _reap(self, pid: int) -> None:
        """Collect an exited child (never blocks: the event loop runs here)."""
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            self._children.pop(pid, None)

    async def alive(self, game_id: str, ref: str) -> bool:
        record = self._record(game_id)
        if record is None or f"pid:{record['pid']}" != ref:
            return False
        self._reap(int(record["pid"]))
        return _is_engine(int(record["pid"]), self._dir(game_id))

    async def list_engines(self) -> list[FoundEngine]:
        found = []
        if not self._root.is_dir():
            return found
        for game_dir in self._root.iterdir():
            record = self._record(game_dir.name)
            if record is not None and _is_engine(int(record["pid"]), game_dir):
                found.append(FoundEngine(game_dir.name, f"pid:{record['pid']}",
                                         datetime.fromisoformat(record["created_at"])))
        return found

    async def close(self) -> None:
        """Stop the engines this process started: on a developer's machine an engine must not outlive
        the runtime that ran it (the next runtime restarts them on their state). Engines this process
        adopted, and engines of a runtime that was killed, stay and are adopted next time."""
        if not self._stop_on_exit:
            return
        mine = [d.name for d in (self._root.iterdir() if self._root.is_dir() else [])
                if (record := self._record(d.name)) is not None and int(record["pid"]) in self._children]
        await asyncio.gather(*(self.remove(game_id) for game_id in mine))
