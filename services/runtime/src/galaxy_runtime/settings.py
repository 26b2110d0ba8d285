"""Runtime settings (docs/configuration.md, "runtime"; the rules they tune are in docs/runtime.md)."""

from __future__ import annotations

import sys
from typing import Literal

from galaxy_kit.settings import ServiceSettings, default_grpc_target
from pydantic import Field


class RuntimeSettings(ServiceSettings):
    service_name: str = "runtime"
    lobby_grpc_target: str = default_grpc_target("lobby")
    #: Deadline of each call to lobby (the proxy's membership check).
    runtime_downstream_timeout_seconds: float = Field(5.0, gt=0)
    #: A name for this replica in the tick rows it claims (defaults to host:pid).
    runtime_replica_id: str = ""

    #: `local`: engines are child processes (`python -m galaxy_engine`); `docker`: containers through
    #: the Docker Engine API (docs/runtime.md, "Drivers").
    runtime_driver: Literal["local", "docker"] = "local"
    #: Local driver: where each game's engine state and log live (`<dir>/<game_id>/`).
    runtime_local_state_dir: str = ".galaxy/engines"
    #: Local driver: stop the engines this process started when it stops (they are restarted on
    #: their state by the next runtime); false leaves them running to be adopted.
    runtime_local_stop_engines_on_exit: bool = True
    #: Local driver: the engines' niceness (0-19). Engines run game logic, runtime runs the clock: at 10,
    #: a minute whose turns all run at once cannot starve the scheduler (docs/runtime.md, "Turns").
    runtime_local_engine_nice: int = Field(10, ge=0, le=19)
    #: Local driver: the interpreter that runs `-m galaxy_engine`.
    runtime_local_python: str = sys.executable
    #: Engine versions registered at start-up when missing, `VERSION=IMAGE` comma-separated
    #: (`make up` registers the reference engine: `1.0.0=galaxy-engine:local`). Existing rows are left as they are.
    runtime_register_versions: str = ""
    #: Docker driver: the Engine API (`unix:///run/podman/podman.sock`); empty = DOCKER_HOST or the default socket.
    runtime_docker_url: str = ""
    #: Docker driver: the host the engines' published ports are reached at.
    runtime_docker_engine_host: str = "127.0.0.1"
    #: Docker driver: the host address the engines' ports are published on. Loopback by default;
    #: a runtime in a container reaches the host at its gateway address, so compose publishes there.
    runtime_docker_publish_addr: str = "127.0.0.1"
    runtime_docker_memory: str = "256m"
    runtime_docker_cpus: float = Field(0.5, gt=0)
    runtime_docker_pids_limit: int = Field(128, ge=16)

    #: Deadline of one engine call (commands, orders, reports, a turn); an engine slower than this is "down".
    runtime_engine_timeout_seconds: float = Field(10.0, gt=0)
    #: How long a new engine may take to answer /v1/health.
    runtime_engine_start_timeout_seconds: float = Field(120.0, gt=0)
    #: The largest command or order body the proxy forwards.
    runtime_max_body_bytes: int = Field(256 * 1024, ge=1024)

    #: false: this replica serves gRPC only (no scheduler, operations worker or health watcher).
    runtime_workers_enabled: bool = True
    #: false: this replica publishes nothing (another replica's relay does).
    runtime_relay_enabled: bool = True
    runtime_relay_poll_interval_seconds: float = Field(1.0, gt=0)
    #: The scheduler wakes at least this often (and at the next due slot it knows of).
    runtime_tick_interval_seconds: float = Field(0.25, gt=0)
    #: Games claimed per scheduler transaction (three statements whatever the number). Every game of a
    #: busy slot should fit in one: a second transaction starts only once the first batch's turns are in
    #: flight, and waits behind them for the event loop. At most 3,000 (PostgreSQL's bind parameters).
    runtime_tick_batch: int = Field(1000, ge=1, le=3000)
    #: Turn outcomes one replica records at once (the engine calls themselves are not bounded).
    runtime_tick_concurrency: int = Field(8, ge=1)
    runtime_operations_poll_seconds: float = Field(0.5, gt=0)
    #: How many operations (starts, restarts) one replica runs at once.
    runtime_operations_concurrency: int = Field(16, ge=1)
    runtime_operation_max_attempts: int = Field(3, ge=1)
    runtime_health_interval_seconds: float = Field(5.0, gt=0)
    #: Restart backoff after a failed recovery: base × 2^failures, capped.
    runtime_restart_backoff_seconds: float = Field(1.0, gt=0)
    runtime_restart_backoff_max_seconds: float = Field(60.0, gt=0)
    #: An engine of our label found with no runtime owning it is removed only after this age
    #: (another replica may be starting it and not have recorded it yet).
    runtime_orphan_grace_seconds: float = Field(120.0, ge=0)
