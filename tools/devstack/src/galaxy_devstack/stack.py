"""The whole suite on one machine: infrastructure, seven services and the edge.

`Stack.start()` brings up, in order, printing one progress line per step:

1. the private PostgreSQL cluster (`$GALAXY_STATE_DIR/pg`, persistent, fsync on)
   unless an external database is configured;
2. the embedded Tansu broker unless an external Kafka is configured
   (memory only: a restart loses what it held; the services' outbox tables are
   the durable record and re-publish what was not yet published);
3. the local SMTP sink (`$GALAXY_STATE_DIR/mail/*.eml`) unless an external SMTP
   server is configured;
4. the seven services and the edge, each a child process
   (`sys.executable -m galaxy_<name>`, own process group, output appended to
   `$GALAXY_STATE_DIR/logs/<name>.log`). They are spawned together and waited
   for in order: a service is ready when its `grpc.health.v1` answers SERVING,
   the edge when `GET /readyz` answers 200.

`Stack.stop()` undoes it in reverse order: SIGTERM to the edge, then to every
service (SIGKILL after a timeout), then the broker, the SMTP sink and
PostgreSQL. `run_until_signal()` is the body of `make up`.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlsplit, urlunsplit

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from galaxy_devstack._process import die_with_parent_prefix, kill_group
from galaxy_devstack.broker import TansuBroker
from galaxy_devstack.postgres import PostgresCluster
from galaxy_devstack.smtp_sink import SmtpSink

#: The services in start order (the order of their default ports).
SERVICES: tuple[str, ...] = ("auth", "account", "lobby", "runtime", "mail", "notify", "geo")
EDGE = "edge"
PROCESSES: tuple[str, ...] = (*SERVICES, EDGE)

DEFAULT_STATE_DIR = ".galaxy"
DEFAULT_PG_PORT = 55432
DEFAULT_KAFKA_PORT = 19092
DEFAULT_LOCAL_SMTP_PORT = 2525
DEFAULT_SMTP_PORT = 25
DEFAULT_GRPC_PORTS: dict[str, int] = {name: 50051 + index for index, name in enumerate(SERVICES)}
DEFAULT_HTTP_LISTEN_ADDR = "127.0.0.1:8080"
DEFAULT_PUSH_LISTEN_ADDR = "127.0.0.1:8081"
DEFAULT_ADMIN_USERNAME = "admin"
#: The engine version `make up` registers: the reference engine, run by runtime's local driver.
REFERENCE_ENGINE_VERSION = "1.0.0=galaxy-engine:local"
ADMIN_PASSWORD_FILE = "admin-password"
#: auth's login-code pepper, generated on the first run unless GALAXY_AUTH_CODE_PEPPER is set.
CODE_PEPPER_FILE = "auth-code-pepper"
LOOPBACK = "127.0.0.1"
#: Mail's SMTP options that only make sense for an external server.
LOCAL_SMTP_UNSUPPORTED = ("GALAXY_SMTP_USERNAME", "GALAXY_SMTP_PASSWORD", "GALAXY_SMTP_STARTTLS")

#: How long the whole start may take before it is declared failed.
DEFAULT_STARTUP_TIMEOUT_SECONDS = 180.0
#: How long a child gets between SIGTERM and SIGKILL.
DEFAULT_STOP_TIMEOUT_SECONDS = 20.0
LOG_TAIL_LINES = 40
POLL_SECONDS = 0.1

#: Reconnect quickly while waiting for a service to come up (gRPC's default backoff grows to minutes).
_FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


class StackError(RuntimeError):
    """Something did not start, died, or did not become ready; the message says what and why."""


class PortsInUse(StackError):
    """A port the stack needs is taken; nothing was started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _split_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise StackError(f"listen address {addr!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def _connect_host(host: str) -> str:
    """The address to reach a listener bound on `host` from this machine."""
    return LOOPBACK if host in ("0.0.0.0", "::", "") else host


def _env_port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{name}={raw!r} is not a port number")
    return int(raw)


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, fit to print."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "<unparseable DSN>"
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _bytecode_cache_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Let the children cache compiled bytecode outside the source tree.

    With PYTHONDONTWRITEBYTECODE set (as on some CI machines) every child would
    compile every imported module from source on every start: about 5 s of CPU
    each, eight at once on two cores. Unless GALAXY_DEVSTACK_PYCACHE is `off` or
    PYTHONPYCACHEPREFIX is already chosen, the children write their bytecode to
    GALAXY_DEVSTACK_PYCACHE (default `~/.cache/galaxy-devstack/pycache`) instead.
    """
    choice = environ.get("GALAXY_DEVSTACK_PYCACHE", "").strip()
    if choice.lower() == "off" or environ.get("PYTHONPYCACHEPREFIX") or not environ.get("PYTHONDONTWRITEBYTECODE"):
        return {}
    if not choice:
        cache_home = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        choice = str(Path(cache_home) / "galaxy-devstack" / "pycache")
    return {"PYTHONPYCACHEPREFIX": choice, "PYTHONDONTWRITEBYTECODE": ""}


@dataclass
class Ports:
    """Every address the embedded default binds on this machine."""

    postgres: int = DEFAULT_PG_PORT
    kafka: int = DEFAULT_KAFKA_PORT
    smtp: int = DEFAULT_LOCAL_SMTP_PORT
    grpc: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_GRPC_PORTS))
    http_listen_addr: str = DEFAULT_HTTP_LISTEN_ADDR
    push_listen_addr: str = DEFAULT_PUSH_LISTEN_ADDR

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Ports:
        """GALAXY_PG_PORT, GALAXY_KAFKA_PORT, GALAXY_LOCAL_SMTP_PORT, GALAXY_<SERVICE>_GRPC_PORT,
        BACKEND_HTTP_LISTEN_ADDR, BACKEND_GRPC_PUSH_LISTEN_ADDR (docs/configuration.md)."""
        ports = cls(
            postgres=_env_port(environ, "GALAXY_PG_PORT", DEFAULT_PG_PORT),
            kafka=_env_port(environ, "GALAXY_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            smtp=_env_port(environ, "GALAXY_LOCAL_SMTP_PORT", DEFAULT_LOCAL_SMTP_PORT),
            grpc={
                name: _env_port(environ, f"GALAXY_{name.upper()}_GRPC_PORT", port)
                for name, port in DEFAULT_GRPC_PORTS.items()
            },
            http_listen_addr=environ.get("BACKEND_HTTP_LISTEN_ADDR") or DEFAULT_HTTP_LISTEN_ADDR,
            push_listen_addr=environ.get("BACKEND_GRPC_PUSH_LISTEN_ADDR") or DEFAULT_PUSH_LISTEN_ADDR,
        )
        _split_addr(ports.http_listen_addr)
        _split_addr(ports.push_listen_addr)
        return ports

    @classmethod
    def free(cls) -> Ports:
        """Ports nobody listens on right now (for tests and side-by-side stacks)."""
        numbers = _distinct_free_ports(5 + len(SERVICES))
        pg, kafka, smtp, http, push, *grpc_ports = numbers
        return cls(
            postgres=pg,
            kafka=kafka,
            smtp=smtp,
            grpc=dict(zip(SERVICES, grpc_ports, strict=True)),
            http_listen_addr=f"{LOOPBACK}:{http}",
            push_listen_addr=f"{LOOPBACK}:{push}",
        )

    def grpc_target(self, service: str) -> str:
        return f"{LOOPBACK}:{self.grpc[service]}"

    @property
    def http_port(self) -> int:
        return _split_addr(self.http_listen_addr)[1]

    @property
    def push_port(self) -> int:
        return _split_addr(self.push_listen_addr)[1]


@dataclass
class ChildProcess:
    """One service or the edge, run as `python -m galaxy_<name>`."""

    name: str
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    log_offset: int = 0
    expected_stop: bool = True
    channel: grpc.Channel | None = None

    @property
    def module(self) -> str:
        return f"galaxy_{self.name}"

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines this run of the process wrote to its log."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.log_offset)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = text.splitlines()[-lines:]
        return "\n".join(tail) if tail else "(the log is empty)"

    def close_channel(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None


def _generated_secret(path: Path, what: str, *, nbytes: int) -> str:
    """The secret kept in `path` (mode 0600), generated with `secrets` on the first run."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        secret = path.read_text().strip()
        if not secret:
            raise StackError(f"{path} is empty; delete it to generate a new {what}") from None
        return secret
    secret = secrets.token_urlsafe(nbytes)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


class Stack:
    """The embedded default: start everything, watch it, stop everything.

    Anything given as `None` is embedded (started and stopped by the stack);
    `database_url`, `kafka_bootstrap_servers` and `smtp_host` point at external
    parts instead. `free_ports=True` picks unused ports (ignores `ports`).
    """

    def __init__(
        self,
        state_dir: Path | str,
        *,
        ports: Ports | None = None,
        free_ports: bool = False,
        database_url: str | None = None,
        kafka_bootstrap_servers: str | None = None,
        smtp_host: str | None = None,
        smtp_port: int = DEFAULT_SMTP_PORT,
        admin_username: str | None = None,
        admin_password: str | None = None,
        environ: Mapping[str, str] | None = None,
        out: IO[str] | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_SECONDS,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS,
        pg_fsync: bool = True,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.ports = Ports.free() if free_ports else (ports or Ports())
        self.external_database_url = database_url or None
        self.external_kafka = kafka_bootstrap_servers or None
        self.external_smtp_host = smtp_host or None
        self.external_smtp_port = smtp_port
        self.admin_username = admin_username or DEFAULT_ADMIN_USERNAME
        self._configured_admin_password = admin_password or None
        self.admin_password: str | None = None
        self.code_pepper: str | None = None
        self.environ = dict(os.environ if environ is None else environ)
        self.out = out if out is not None else sys.stdout
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.pg_fsync = pg_fsync

        self.postgres: PostgresCluster | None = None
        self.broker: TansuBroker | None = None
        self.smtp: SmtpSink | None = None
        self.children: dict[str, ChildProcess] = {}
        self._lock_file: IO[bytes] | None = None
        self._started = False

    # -- configuration -------------------------------------------------------------------------

    @classmethod
    def from_environ(
        cls, state_dir: Path | str | None = None, environ: Mapping[str, str] | None = None, **options
    ) -> Stack:
        """The stack `make up` runs, configured as docs/configuration.md says."""
        env = dict(os.environ if environ is None else environ)
        if state_dir is None:
            state_dir = env.get("GALAXY_STATE_DIR") or DEFAULT_STATE_DIR
        if not options.get("free_ports"):
            options.setdefault("ports", Ports.from_environ(env))
        return cls(
            state_dir,
            database_url=env.get("GALAXY_DATABASE_URL") or None,
            kafka_bootstrap_servers=env.get("GALAXY_KAFKA_BOOTSTRAP_SERVERS") or None,
            smtp_host=env.get("GALAXY_SMTP_HOST") or None,
            smtp_port=_env_port(env, "GALAXY_SMTP_PORT", DEFAULT_SMTP_PORT),
            admin_username=env.get("GALAXY_ADMIN_USERNAME") or None,
            admin_password=env.get("GALAXY_ADMIN_PASSWORD") or None,
            environ=env,
            **options,
        )

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def pg_dir(self) -> Path:
        return self.state_dir / "pg"

    @property
    def admin_password_file(self) -> Path:
        return self.state_dir / ADMIN_PASSWORD_FILE

    @property
    def admin_password_from_file(self) -> bool:
        return self._configured_admin_password is None

    @property
    def database_url(self) -> str:
        if self.external_database_url:
            return self.external_database_url
        if self.postgres is None:
            raise StackError("the private PostgreSQL is not started")
        return self.postgres.dsn

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.external_kafka or f"{LOOPBACK}:{self.ports.kafka}"

    @property
    def smtp_address(self) -> tuple[str, int]:
        if self.external_smtp_host:
            return self.external_smtp_host, self.external_smtp_port
        return LOOPBACK, self.ports.smtp

    @property
    def edge_url(self) -> str:
        host, port = _split_addr(self.ports.http_listen_addr)
        return f"http://{_connect_host(host)}:{port}"

    @property
    def push_target(self) -> str:
        host, port = _split_addr(self.ports.push_listen_addr)
        return f"{_connect_host(host)}:{port}"

    @property
    def admin_auth(self) -> tuple[str, str]:
        if self.admin_password is None:
            raise StackError("the stack is not started")
        return self.admin_username, self.admin_password

    # -- output --------------------------------------------------------------------------------

    def _say(self, text: str = "", *, end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    # -- start ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything; on failure stop what was started and raise StackError."""
        if self._started:
            raise StackError("the stack is already started")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(exist_ok=True)
        self._lock_state_dir()
        self._started = True
        total = 3 + len(PROCESSES)
        begun = time.monotonic()
        try:
            self.admin_password = self._resolve_admin_password()
            self.code_pepper = self._resolve_code_pepper()
            self._check_ports_free()
            self._step(1, total, "postgres", self._start_postgres)
            self._step(2, total, "kafka", self._start_broker)
            self._step(3, total, "smtp", self._start_smtp)
            deadline = time.monotonic() + self.startup_timeout
            for name in PROCESSES:
                self.children[name] = ChildProcess(name, self._child_env(name), self.logs_dir / f"{name}.log")
            for name in PROCESSES:
                self._spawn(self.children[name])
            for index, name in enumerate(PROCESSES, start=4):
                child = self.children[name]
                self._say(f"[{index}/{total}] {name} ... ", end="")
                self._wait_ready(child, deadline)
                self._say(f"ok ({time.monotonic() - child.started_at:.1f} s)")
        except BaseException as exc:
            if isinstance(exc, StackError):
                self._say("FAILED")
            else:
                self._say("interrupted" if isinstance(exc, KeyboardInterrupt) else f"FAILED: {exc!r}")
            self.stop(quiet=True)
            raise
        self._say(f"Galaxy is up in {time.monotonic() - begun:.1f} s.")
        self._say(f"  edge listening on {self.edge_url} (REST), push gRPC on {self.push_target}")
        if self.admin_password_from_file:
            self._say(f"  admin user {self.admin_username!r}; password in {self.admin_password_file}")
        else:
            self._say(f"  admin user {self.admin_username!r}; password from GALAXY_ADMIN_PASSWORD")
        if self.external_smtp_host:
            self._say(f"  mail goes to {self.external_smtp_host}:{self.external_smtp_port}")
        else:
            self._say(f"  mail: one .eml file per message in {self.mail_dir}")
        self._say(f"  logs: {self.logs_dir}")

    def _step(self, index: int, total: int, name: str, action) -> None:  # type: ignore[no-untyped-def]
        self._say(f"[{index}/{total}] {name} ... ", end="")
        begun = time.monotonic()
        outcome = action()
        self._say(f"{outcome} ({time.monotonic() - begun:.1f} s)")

    def _lock_state_dir(self) -> None:
        handle = open(self.state_dir / ".lock", "wb")  # noqa: SIM115 (held until stop)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StackError(
                f"another galaxy devstack is running on {self.state_dir}; stop it first"
            ) from None
        self._lock_file = handle

    def _unlock_state_dir(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _resolve_admin_password(self) -> str:
        """GALAXY_ADMIN_PASSWORD, else the one generated on the first run (mode 0600 file)."""
        if self._configured_admin_password:
            return self._configured_admin_password
        return _generated_secret(self.admin_password_file, "admin password", nbytes=24)

    def _resolve_code_pepper(self) -> str:
        """GALAXY_AUTH_CODE_PEPPER, else the one generated on the first run (mode 0600 file).

        Kept across restarts: a new pepper would void every login code in flight.
        """
        configured = self.environ.get("GALAXY_AUTH_CODE_PEPPER")
        if configured:
            return configured
        return _generated_secret(self.state_dir / CODE_PEPPER_FILE, "login-code pepper", nbytes=48)

    def _ports_in_use(self) -> list[tuple[str, str, int]]:
        wanted: list[tuple[str, str, int]] = []
        if not self.external_database_url and not self._private_postgres().server_pid():
            wanted.append(("postgres", LOOPBACK, self.ports.postgres))
        if not self.external_kafka:
            wanted.append(("kafka", LOOPBACK, self.ports.kafka))
        if not self.external_smtp_host:
            wanted.append(("smtp", LOOPBACK, self.ports.smtp))
        wanted += [(name, LOOPBACK, self.ports.grpc[name]) for name in SERVICES]
        wanted.append(("edge REST", *_split_addr(self.ports.http_listen_addr)))
        wanted.append(("edge push", *_split_addr(self.ports.push_listen_addr)))
        busy = []
        for what, host, port in wanted:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host, port))
                except OSError:
                    busy.append((what, host, port))
        return busy

    def _check_ports_free(self) -> None:
        busy = self._ports_in_use()
        if busy:
            listed = ", ".join(f"{port} ({what})" for what, _host, port in busy)
            raise PortsInUse(
                f"ports already in use: {listed}. Is another stack running? "
                "Choose other ports (docs/configuration.md) or stop what listens there."
            )

    def _private_postgres(self) -> PostgresCluster:
        if self.postgres is None:
            self.postgres = PostgresCluster(
                self.pg_dir,
                self.ports.postgres,
                fsync=self.pg_fsync,
                log_path=self.logs_dir / "postgres.log",
            )
        return self.postgres

    def _start_postgres(self) -> str:
        if self.external_database_url:
            return f"external {redact_dsn(self.external_database_url)}"
        cluster = self._private_postgres()
        if os.geteuid() == 0:
            self._check_traversable_by_postgres(self.state_dir)
        if cluster.server_pid():
            # Left running by a run that was killed (pg_ctl daemonises, so it cannot die with us).
            cluster.stop(mode="fast")
        fresh = not cluster.initialised()
        try:
            cluster.start()
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip()
            raise StackError(
                f"PostgreSQL did not start ({detail or exc}); see {cluster.log_file}"
            ) from exc
        return f"ok, {'new cluster' if fresh else 'reused'} {cluster.data_dir}"

    @staticmethod
    def _check_traversable_by_postgres(state_dir: Path) -> None:
        """As root the server runs as `postgres`, which must be able to reach the state directory."""
        for directory in state_dir.parents:
            if not directory.stat().st_mode & 0o001:
                raise StackError(
                    f"the PostgreSQL server runs as user postgres and cannot enter {directory} "
                    f"(mode {directory.stat().st_mode & 0o777:o}); put the state directory elsewhere "
                    "(--state-dir / GALAXY_STATE_DIR)"
                )

    def _start_broker(self) -> str:
        if self.external_kafka:
            return f"external {self.external_kafka}"
        self.broker = TansuBroker(
            self.ports.kafka, log_file=self.logs_dir / "kafka.log", die_with_parent=True
        )
        self.broker.start()
        return f"ok, embedded Tansu on {self.broker.bootstrap_servers} (memory only)"

    def _start_smtp(self) -> str:
        if self.external_smtp_host:
            return f"external {self.external_smtp_host}:{self.external_smtp_port}"
        self.smtp = SmtpSink(self.mail_dir, self.ports.smtp)
        self.smtp.start()
        return f"ok, {LOOPBACK}:{self.ports.smtp} -> {self.mail_dir}"

    def _child_env(self, name: str) -> dict[str, str]:
        env = dict(self.environ)
        for secret in (
            "GALAXY_ADMIN_PASSWORD", "GALAXY_ADMIN_USERNAME", "GALAXY_AUTH_CODE_PEPPER", "GALAXY_GRPC_LISTEN_ADDR"
        ):
            env.pop(secret, None)
        env.update(_bytecode_cache_env(self.environ))
        # No docstrings or asserts resident: about 5 MB less per process
        # (docs/performance.md, "Memory"). The suite's tests run the services this way too.
        env.setdefault("PYTHONOPTIMIZE", "2")
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "GALAXY_LOG_FORMAT": "json",
                "GALAXY_STATE_DIR": str(self.state_dir),
            }
        )
        for service in SERVICES:
            env[f"GALAXY_{service.upper()}_GRPC_TARGET"] = self.ports.grpc_target(service)
        env["GALAXY_KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap_servers
        if name == EDGE:
            # The edge follows account's lifecycle events for its identity cache.
            env["BACKEND_HTTP_LISTEN_ADDR"] = self.ports.http_listen_addr
            env["BACKEND_GRPC_PUSH_LISTEN_ADDR"] = self.ports.push_listen_addr
            return env
        env["GALAXY_GRPC_LISTEN_ADDR"] = self.ports.grpc_target(name)
        env["GALAXY_DATABASE_URL"] = self.database_url
        if name == "mail":
            host, port = self.smtp_address
            env["GALAXY_SMTP_HOST"] = host
            env["GALAXY_SMTP_PORT"] = str(port)
            if not self.external_smtp_host:
                # The local sink speaks plain SMTP without authentication.
                for key in LOCAL_SMTP_UNSUPPORTED:
                    env.pop(key, None)
        if name == "runtime":
            # Engines are local processes (no container engine needed) and the reference engine is
            # registered, so a whole game can be played through the edge (docs/runtime.md).
            env.setdefault("GALAXY_RUNTIME_DRIVER", "local")
            env.setdefault("GALAXY_RUNTIME_LOCAL_STATE_DIR", str(self.state_dir / "engines"))
            env.setdefault("GALAXY_RUNTIME_REGISTER_VERSIONS", REFERENCE_ENGINE_VERSION)
        if name == "auth":
            env["GALAXY_ADMIN_USERNAME"] = self.admin_username
            env["GALAXY_ADMIN_PASSWORD"] = self.admin_password or ""
            env["GALAXY_AUTH_CODE_PEPPER"] = self.code_pepper or ""
        return env

    def _spawn(self, child: ChildProcess) -> None:
        child.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(child.log_path, "ab") as log:
            child.log_offset = log.tell()
            child.popen = subprocess.Popen(
                [*die_with_parent_prefix(), sys.executable, "-m", child.module],
                env=child.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child.started_at = time.monotonic()
        child.expected_stop = False

    # -- readiness -----------------------------------------------------------------------------

    def _service_serving(self, child: ChildProcess) -> bool:
        if child.channel is None:
            child.channel = grpc.insecure_channel(self.ports.grpc_target(child.name), options=_FAST_RECONNECT)
        stub = health_pb2_grpc.HealthStub(child.channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def _edge_answers(self, path: str) -> bool:
        try:
            return httpx.get(self.edge_url + path, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _ready(self, child: ChildProcess) -> bool:
        if child.name != EDGE:
            return self._service_serving(child)
        every_service_up = all(self.children[s].alive() for s in SERVICES if s in self.children)
        return self._edge_answers("/readyz" if every_service_up else "/healthz")

    def _died_message(self, child: ChildProcess, when: str) -> str:
        code = child.popen.returncode if child.popen is not None else None
        if code is not None and code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return (
            f"{child.name} (pid {child.pid}) {how} {when}; "
            f"last lines of {child.log_path}:\n{child.log_tail()}"
        )

    def _wait_ready(self, child: ChildProcess, deadline: float) -> None:
        while True:
            for other in self.children.values():
                if other.popen is not None and not other.expected_stop and other.popen.poll() is not None:
                    raise StackError(self._died_message(other, "before the stack was ready"))
            if self._ready(child):
                child.close_channel()
                return
            if time.monotonic() > deadline:
                what = "GET /readyz did not answer 200" if child.name == EDGE else "health is not SERVING"
                raise StackError(
                    f"{child.name} (pid {child.pid}) is not ready after {self.startup_timeout:.0f} s "
                    f"({what}); last lines of {child.log_path}:\n{child.log_tail()}"
                )
            time.sleep(POLL_SECONDS)

    # -- one process ---------------------------------------------------------------------------

    def _child(self, name: str) -> ChildProcess:
        try:
            return self.children[name]
        except KeyError:
            raise StackError(f"no process named {name!r}; known: {', '.join(PROCESSES)}") from None

    def stop_process(self, name: str, *, timeout: float | None = None) -> int | None:
        """Stop one service (or the edge) with SIGTERM; return its exit code."""
        child = self._child(name)
        self._terminate([child], self.stop_timeout if timeout is None else timeout)
        return child.popen.returncode if child.popen is not None else None

    def start_process(self, name: str, *, timeout: float | None = None) -> None:
        """Start one stopped service (or the edge) again and wait until it is ready."""
        child = self._child(name)
        if child.alive():
            raise StackError(f"{name} is already running (pid {child.pid})")
        self._spawn(child)
        self._wait_ready(child, time.monotonic() + (self.startup_timeout if timeout is None else timeout))

    def running(self, name: str) -> bool:
        return self._child(name).alive()

    # -- faults (for tests) ----------------------------------------------------------------------
    #
    # Each acts on one part and leaves the others running: the fault tests use them to
    # crash, freeze and restart a service, the broker or PostgreSQL on the same ports.

    def kill_process(self, name: str, *, timeout: float = 10.0) -> int | None:
        """SIGKILL one service (or the edge) and its process group, as a crash would.

        Returns once the process is gone, with its exit code (-9). Nothing is
        flushed or closed: in-flight RPCs and transactions are cut off.
        """
        child = self._child(name)
        if not child.alive():
            raise StackError(f"{name} is not running")
        child.expected_stop = True
        child.close_channel()
        kill_group(child.popen.pid, signal.SIGKILL)
        child.popen.wait(timeout)
        return child.popen.returncode

    def pause_process(self, name: str) -> None:
        """SIGSTOP one service (or the edge): it keeps its port and connections but answers nothing."""
        child = self._child(name)
        if not child.alive():
            raise StackError(f"{name} is not running")
        kill_group(child.popen.pid, signal.SIGSTOP)

    def resume_process(self, name: str) -> None:
        """SIGCONT a process paused by `pause_process`."""
        child = self._child(name)
        if not child.alive():
            raise StackError(f"{name} is not running")
        kill_group(child.popen.pid, signal.SIGCONT)

    def restart_process(self, name: str, *, kill: bool = True, timeout: float | None = None) -> None:
        """Stop one service (SIGKILL, or SIGTERM with `kill=False`), start it again and wait until ready."""
        if self.running(name):
            if kill:
                self.kill_process(name)
            else:
                self.stop_process(name)
        self.start_process(name, timeout=timeout)

    def _embedded_broker(self) -> TansuBroker:
        if self.broker is None:
            raise StackError("the broker is external (or not started); the stack cannot restart it")
        return self.broker

    def kill_broker(self) -> None:
        """SIGKILL the embedded broker. Its storage is memory only: topics, records and offsets are gone."""
        self._embedded_broker().kill()

    def start_broker(self) -> None:
        """Start the embedded broker again, empty, on the same port."""
        broker = self._embedded_broker()
        if broker.running():
            raise StackError("the broker is already running")
        broker.start()

    def restart_broker(self) -> None:
        """SIGKILL the embedded broker and start an empty one on the same port."""
        self.kill_broker()
        self.start_broker()

    def _embedded_postgres(self) -> PostgresCluster:
        if self.postgres is None or self.external_database_url:
            raise StackError("PostgreSQL is external (or not started); the stack cannot restart it")
        return self.postgres

    def kill_postgres(self) -> None:
        """Stop the private PostgreSQL the way a crash does (`pg_ctl stop -m immediate`).

        Every connection is cut at once and nothing is checkpointed; the next
        start runs crash recovery. Committed transactions survive (that is the
        database's promise); fsync is off in tests, which only matters for a
        machine crash, not a server crash.
        """
        self._embedded_postgres().stop(mode="immediate")

    def start_postgres(self) -> None:
        """Start the private PostgreSQL again on the same port and data directory."""
        cluster = self._embedded_postgres()
        if cluster.server_pid():
            raise StackError("PostgreSQL is already running")
        cluster.start()

    def restart_postgres(self) -> None:
        """Crash-stop the private PostgreSQL and start it again (crash recovery, same port)."""
        self.kill_postgres()
        self.start_postgres()

    # -- watching ------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """What died unexpectedly since the start (empty when everything runs)."""
        problems = []
        for child in self.children.values():
            if child.popen is not None and not child.expected_stop and child.popen.poll() is not None:
                problems.append(self._died_message(child, "unexpectedly"))
                child.expected_stop = True
        if self.broker is not None and self.broker.process is not None and self.broker.process.poll() is not None:
            problems.append(
                f"the embedded broker exited with code {self.broker.process.returncode}; "
                f"see {self.logs_dir / 'kafka.log'}"
            )
            self.broker.process = None
        if self.postgres is not None and not self.external_database_url and not self.postgres.server_pid():
            problems.append(f"PostgreSQL is no longer running; see {self.postgres.log_file}")
            self.postgres = None
        if self.smtp is not None and not self.smtp.running:
            problems.append("the local SMTP sink stopped")
            self.smtp = None
        return problems

    def run_until_signal(self) -> int:
        """Start, then run until SIGINT/SIGTERM (exit 0) or until something dies (exit 1)."""
        stop_requested: list[int] = []

        def request_stop(signum: int, _frame: object) -> None:
            if not self._started or stop_requested:
                stop_requested.append(signum)
                return
            stop_requested.append(signum)
            raise KeyboardInterrupt

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                self.start()
            except KeyboardInterrupt:
                self._say("stopped before the stack was ready")
                return 130 if not stop_requested or stop_requested[0] == signal.SIGINT else 143
            except StackError as exc:
                self._say(f"\n!!! the stack did not start: {exc}")
                return 1
            self._say("Press Ctrl-C to stop.")
            try:
                while True:
                    problems = self.check()
                    if problems:
                        self._say("\n!!! " + "\n!!! ".join(problems))
                        self._say("!!! stopping the stack")
                        signal.signal(signal.SIGINT, signal.SIG_IGN)
                        signal.signal(signal.SIGTERM, signal.SIG_IGN)
                        self.stop()
                        return 1
                    time.sleep(0.25)
            except KeyboardInterrupt:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                self._say("\nstopping ...")
                self.stop()
                return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- stop ----------------------------------------------------------------------------------

    def _terminate(self, children: Iterable[ChildProcess], timeout: float) -> None:
        """SIGTERM all of `children` at once, wait, SIGKILL what is left (and its process group)."""
        children = [c for c in children if c.popen is not None]
        for child in children:
            child.expected_stop = True
            child.close_channel()
            if child.popen.poll() is None:
                try:
                    child.popen.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
                # A process paused by pause_process() would hold the SIGTERM until the timeout.
                kill_group(child.popen.pid, signal.SIGCONT)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{child.name} (pid {child.pid}) ignored SIGTERM for {timeout:.0f} s; killing it")
                kill_group(child.popen.pid)
                child.popen.wait()
            # Anything the child started in its group and left behind.
            kill_group(child.popen.pid)

    def stop(self, *, quiet: bool = False) -> None:
        """Stop everything that was started, in reverse order. Safe to call twice."""
        if not self._started:
            return
        begun = time.monotonic()
        edge = [c for name, c in self.children.items() if name == EDGE]
        services = [self.children[name] for name in reversed(SERVICES) if name in self.children]
        errors: list[str] = []
        for group in (edge, services):
            try:
                self._terminate(group, self.stop_timeout)
            except Exception as exc:  # noqa: BLE001 (keep stopping the rest)
                errors.append(repr(exc))
        for label, action in (
            ("broker", lambda: self.broker and self.broker.stop()),
            ("smtp", lambda: self.smtp and self.smtp.stop()),
            ("postgres", lambda: self.postgres and not self.external_database_url and self.postgres.stop()),
        ):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 (keep stopping the rest)
                errors.append(f"{label}: {exc!r}")
        self.broker = None
        self.smtp = None
        self._started = False
        self._unlock_state_dir()
        if not quiet:
            self._say(f"stopped in {time.monotonic() - begun:.1f} s")
        if errors:
            self._say("errors while stopping: " + "; ".join(errors))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop(quiet=True)
