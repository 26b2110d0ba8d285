"""A private PostgreSQL cluster run from the system's server binaries.

Used by `make up` (a persistent cluster under $GALAXY_STATE_DIR/pg) and by the
tests (a throw-away cluster in a temporary directory). initdb refuses to run as
root, so when we are root the cluster is owned by the `postgres` OS user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_BINARY_GLOBS = ("/usr/lib/postgresql/*/bin",)
DEFAULT_DATABASE = "galaxy"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


def find_server_bin_dir() -> Path:
    """The directory holding initdb/pg_ctl/postgres, newest major version first."""
    on_path = shutil.which("pg_ctl")
    candidates = sorted(
        (Path(p) for pattern in SERVER_BINARY_GLOBS for p in glob.glob(pattern)),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found; install them (apt-get install -y postgresql) "
        "or set GALAXY_DATABASE_URL to an external server"
    )


@dataclass
class PostgresCluster:
    """One cluster: data directory, port, and the `galaxy` database in it."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    database: str = DEFAULT_DATABASE
    #: False for throw-away clusters: no fsync, so only a machine crash (not a server crash) loses data.
    fsync: bool = True
    #: Where the server writes its log; default `<data_dir>.log` next to the data directory.
    log_path: Path | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{self.database}"

    @property
    def log_file(self) -> Path:
        if self.log_path is not None:
            return self.log_path
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    def _chown_to_owner(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster if its data directory holds none yet."""
        if self.initialised():
            return
        bin_dir = find_server_bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if os.geteuid() == 0:
            # The server runs as `postgres` and must traverse into our (often 0700 temp) parent.
            parent = self.data_dir.parent
            parent.chmod(parent.stat().st_mode | 0o711)
        self._chown_to_owner(self.data_dir)
        subprocess.run(
            self._as_owner(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                 "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        """Start the server (waiting until it accepts connections) and ensure the database."""
        self.init()
        bin_dir = find_server_bin_dir()
        self.log_file.touch(exist_ok=True)
        self._chown_to_owner(self.log_file)
        options = (
            f"-p {self.port} -k {self.data_dir} -c listen_addresses={self.host} "
            f"-c max_connections=300 -c unix_socket_permissions=0700"
        )
        if not self.fsync:
            # Safe against a crash of the server (the fault tests stop it with `-m immediate`),
            # not of the machine: written WAL stays in the OS's cache. synchronous_commit stays
            # on, since without it a server crash loses commits it had already acknowledged.
            options += " -c fsync=off -c full_page_writes=off"
        subprocess.run(
            self._as_owner(
                [str(bin_dir / "pg_ctl"), "-w", "-t", "60", "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", options, "start"]
            ),
            check=True,
            capture_output=True,
        )
        self._ensure_database(bin_dir)

    def _ensure_database(self, bin_dir: Path) -> None:
        psql = shutil.which("psql") or str(bin_dir / "psql")
        base = [psql, "-h", self.host, "-p", str(self.port), "-U", "postgres", "-tA"]
        found = subprocess.run(
            [*base, "-d", "postgres", "-c",
             f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        if found != "1":
            subprocess.run(
                [*base, "-d", "postgres", "-c", f'CREATE DATABASE "{self.database}"'],
                check=True, capture_output=True,
            )

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def server_pid(self) -> int | None:
        """The postmaster's pid when a live server runs on this data directory, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        bin_dir = find_server_bin_dir()
        subprocess.run(
            self._as_owner([str(bin_dir / "pg_ctl"), "-w", "-D", str(self.data_dir), "-m", mode, "stop"]),
            check=False,
            capture_output=True,
        )
