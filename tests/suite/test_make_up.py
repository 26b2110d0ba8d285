"""`make up` as a user runs it: `python -m galaxy_devstack up`, Ctrl-C/SIGTERM, run it again.

Everything is real and private to the test: its own PostgreSQL cluster and
broker under a temporary state directory, every port chosen free through the
environment variables of docs/configuration.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from galaxy_devstack.postgres import PostgresCluster
from galaxy_devstack.stack import SERVICES, Ports

# Runs `make up` itself: not against an external suite (make compose-test).
pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

START_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 60.0
#: How long the stack's processes may take to be gone once `up` exited (the loop ends as soon
#: as they are); wide, since reaping eight processes on a loaded two-core machine can be slow.
EXIT_TIMEOUT_SECONDS = 30.0
#: Inherited variables that would point the stack at something other than its embedded parts.
EXTERNAL_SETTINGS = (
    "GALAXY_DATABASE_URL",
    "GALAXY_KAFKA_BOOTSTRAP_SERVERS",
    "GALAXY_SMTP_HOST",
    "GALAXY_SMTP_PORT",
    "GALAXY_ADMIN_USERNAME",
    "GALAXY_ADMIN_PASSWORD",
    "GALAXY_STATE_DIR",
)


class Up:
    """One `python -m galaxy_devstack up` process with its output collected line by line."""

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "galaxy_devstack", "up", "--state-dir", str(state_dir)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                for line in self.lines:
                    if needle in line:
                        return line
                if self.process.poll() is not None and not self._reader.is_alive():
                    pytest.fail(f"`up` exited {self.process.returncode} before {needle!r}:\n{self.output}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {needle!r} after {timeout:.0f} s:\n{self.output}")
                self._new_line.wait(min(remaining, 0.5))

    def children(self) -> set[int]:
        """Pids whose parent is the `up` process."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.add(int(entry.name))
        return found

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"`up` did not stop within {STOP_TIMEOUT_SECONDS:.0f} s of SIGTERM:\n{self.output}")
        self._reader.join(10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postmaster_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root, PostgreSQL runs as `postgres`, which cannot enter it.
    path = Path(tempfile.mkdtemp(prefix="galaxy-make-up-"))
    yield path
    # PostgreSQL daemonises: a failed test must not leave its cluster running.
    cluster = PostgresCluster(path / "pg", 0)
    if cluster.server_pid():
        cluster.stop(mode="immediate")
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def ports() -> Ports:
    return Ports.free()


@pytest.fixture
def env(ports: Ports) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SETTINGS}
    env.update(
        {
            "GALAXY_PG_PORT": str(ports.postgres),
            "GALAXY_KAFKA_PORT": str(ports.kafka),
            "GALAXY_LOCAL_SMTP_PORT": str(ports.smtp),
            "BACKEND_HTTP_LISTEN_ADDR": ports.http_listen_addr,
            "BACKEND_GRPC_PUSH_LISTEN_ADDR": ports.push_listen_addr,
        }
    )
    for service in SERVICES:
        env[f"GALAXY_{service.upper()}_GRPC_PORT"] = str(ports.grpc[service])
    return env


def all_ports(ports: Ports) -> dict[str, int]:
    return {
        "postgres": ports.postgres,
        "kafka": ports.kafka,
        "smtp": ports.smtp,
        "edge": ports.http_port,
        "push": ports.push_port,
        **ports.grpc,
    }


def run_once(state_dir: Path, env: dict[str, str], ports: Ports) -> tuple[Up, str]:
    """Start `up`, wait until the edge listens and is ready; return it and its edge URL."""
    up = Up(state_dir, env)
    line = up.wait_for_line("edge listening on", START_TIMEOUT_SECONDS)
    edge_url = f"http://{ports.http_listen_addr}"
    assert edge_url in line, line
    response = httpx.get(f"{edge_url}/readyz", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}
    return up, edge_url


def stop_and_check_nothing_is_left(up: Up, state_dir: Path, ports: Ports) -> None:
    children = up.children()
    postgres = postmaster_pid(state_dir)
    assert len(children) >= 1 + len(SERVICES) + 1, f"expected broker, services and edge: {children}"
    assert postgres is not None and alive(postgres)
    code = up.terminate()
    assert code == 0, f"`up` exited {code} after SIGTERM:\n{up.output}"
    deadline = time.monotonic() + EXIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline and any(alive(pid) for pid in children | {postgres}):
        time.sleep(0.1)
    assert [pid for pid in children if alive(pid)] == [], up.output
    assert not alive(postgres), "PostgreSQL still runs after the stack stopped"
    busy = {name: port for name, port in all_ports(ports).items() if listening(port)}
    assert busy == {}, f"still listening after the stop: {busy}"


def query(dsn: str, *statements: str) -> list:
    """Run statements in order on a fresh connection; the value of each (None for DDL/DML)."""

    async def run() -> list:
        connection = await asyncpg.connect(dsn)
        try:
            results = []
            for statement in statements:
                if statement.lstrip().upper().startswith("SELECT"):
                    results.append(await connection.fetchval(statement))
                else:
                    await connection.execute(statement)
                    results.append(None)
            return results
        finally:
            await connection.close()

    return asyncio.run(run())


ADMIN_CREATED = "SELECT created_at FROM auth.admin_accounts WHERE username = 'admin'"


def test_make_up_starts_stops_cleanly_and_keeps_its_state(state_dir, env, ports):
    dsn = f"postgresql://postgres@127.0.0.1:{ports.postgres}/galaxy"
    password_file = state_dir / "admin-password"
    pepper_file = state_dir / "auth-code-pepper"
    env = {k: v for k, v in env.items() if k != "GALAXY_AUTH_CODE_PEPPER"}
    up, edge_url = run_once(state_dir, env, ports)
    try:
        # The first run creates the cluster and the administrator's password.
        assert "postgres ... ok, new cluster" in up.output
        assert password_file.exists()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        assert len(password) >= 16
        assert str(password_file) in up.output
        # auth refuses to start without a pepper; make up generates one and keeps it.
        assert stat.S_IMODE(pepper_file.stat().st_mode) == 0o600
        pepper = pepper_file.read_text().strip()
        assert len(pepper) >= 32
        admin = httpx.get(f"{edge_url}/api/v1/admin/admin-accounts", auth=("admin", password), timeout=30)
        assert admin.status_code == 200, admin.text
        assert [item["username"] for item in admin.json()["items"]] == ["admin"]
        wrong = httpx.get(f"{edge_url}/api/v1/admin/admin-accounts", auth=("admin", "nope"), timeout=30)
        assert wrong.status_code == 401

        *_, admin_created = query(
            dsn,
            "CREATE TABLE public.make_up_probe (note text)",
            "INSERT INTO public.make_up_probe VALUES ('kept')",
            ADMIN_CREATED,
        )
        assert admin_created is not None

        stop_and_check_nothing_is_left(up, state_dir, ports)
    finally:
        up.kill()
    assert password not in up.output and pepper not in up.output
    for log in (state_dir / "logs").glob("*.log"):
        assert password not in log.read_text(errors="replace"), f"the admin password leaked into {log}"
        assert pepper not in log.read_text(errors="replace"), f"the pepper leaked into {log}"
    assert (state_dir / "pg" / "PG_VERSION").exists()

    # The second run on the same state directory reuses the cluster and the password.
    again, edge_url = run_once(state_dir, env, ports)
    try:
        assert "postgres ... ok, reused" in again.output
        assert password_file.read_text().strip() == password
        assert pepper_file.read_text().strip() == pepper
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        admin = httpx.get(f"{edge_url}/api/v1/admin/admin-accounts", auth=("admin", password), timeout=30)
        assert admin.status_code == 200, admin.text
        assert [item["username"] for item in admin.json()["items"]] == ["admin"]
        note, created = query(dsn, "SELECT note FROM public.make_up_probe", ADMIN_CREATED)
        assert note == "kept"
        assert created == admin_created
        stop_and_check_nothing_is_left(again, state_dir, ports)
    finally:
        again.kill()
    assert password not in again.output


def test_make_up_reports_a_process_that_dies_and_stops_everything(state_dir, env, ports):
    up, _edge_url = run_once(state_dir, env, ports)
    try:
        children = up.children()
        geo = next(
            pid for pid in children if "galaxy_geo" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        )
        os.kill(geo, signal.SIGKILL)
        code = up.process.wait(STOP_TIMEOUT_SECONDS)
        up._reader.join(10)
    finally:
        up.kill()
    assert code == 1, up.output
    assert f"geo (pid {geo}) was killed by SIGKILL unexpectedly" in up.output, up.output
    assert "geo.log" in up.output  # where to look
    deadline = time.monotonic() + EXIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline and any(alive(pid) for pid in children):
        time.sleep(0.1)
    assert [pid for pid in children if alive(pid)] == []
    assert {name: port for name, port in all_ports(ports).items() if listening(port)} == {}
