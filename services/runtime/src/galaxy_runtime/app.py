"""Wiring of the runtime service: its servicer, driver, clients and workers, its migrations."""

from __future__ import annotations

import os
import socket

from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.events import OutboxRelay
from galaxy_kit.grpc_client import insecure_channel
from galaxy_kit.service import ServiceContext, define_service

from galaxy_runtime.clients import EngineClient, MemberDirectory
from galaxy_runtime.domain import events, versions
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.turns import TurnRunner
from galaxy_runtime.drivers.base import Driver
from galaxy_runtime.repository.tables import outbox
from galaxy_runtime.servicer import RuntimeServicer
from galaxy_runtime.settings import RuntimeSettings
from galaxy_runtime.workers import HealthWatcher, OperationsWorker, TurnScheduler, system_clock


def make_driver(settings: RuntimeSettings) -> Driver:
    if settings.runtime_driver == "docker":
        from galaxy_runtime.drivers.docker import DockerDriver

        return DockerDriver(base_url=settings.runtime_docker_url, engine_host=settings.runtime_docker_engine_host,
                            memory=settings.runtime_docker_memory, cpus=settings.runtime_docker_cpus,
                            pids_limit=settings.runtime_docker_pids_limit,
                            publish_addr=settings.runtime_docker_publish_addr)
    from galaxy_runtime.drivers.local import LocalProcessDriver

    return LocalProcessDriver(settings.runtime_local_state_dir, settings.runtime_local_python,
                              stop_on_exit=settings.runtime_local_stop_engines_on_exit,
                              nice=settings.runtime_local_engine_nice)


def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, RuntimeSettings)
    lobby_channel = insecure_channel(settings.lobby_grpc_target)
    driver = make_driver(settings)
    engines = EngineClient(timeout=settings.runtime_engine_timeout_seconds)
    deps = Deps(
        engine=context.engine, sessions=context.sessions, reads=context.reads, settings=settings, driver=driver, engines=engines,
        members=MemberDirectory(lobby_channel, timeout=settings.runtime_downstream_timeout_seconds),
        replica=settings.runtime_replica_id or f"{socket.gethostname()}:{os.getpid()}",
    )
    clock = system_clock
    runner = TurnRunner(deps, clock, concurrency=settings.runtime_tick_concurrency)

    async def close() -> None:
        await lobby_channel.close()
        await engines.close()
        await driver.close()

    context.on_shutdown.append(close)

    async def register_versions() -> None:
        await versions.register_missing(deps, settings.runtime_register_versions, now=clock())

    context.on_startup.append(register_versions)
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(RuntimeServicer(deps, runner), context.server)
    if settings.runtime_relay_enabled:
        context.workers.append(OutboxRelay(
            context.engine, outbox, bootstrap_servers=settings.kafka_bootstrap_servers, topics=events.TOPICS,
            poll_interval=settings.runtime_relay_poll_interval_seconds, name="runtime.outbox",
        ))
    if settings.runtime_workers_enabled:
        context.workers.extend([
            OperationsWorker(deps, clock), TurnScheduler(deps, runner, clock), HealthWatcher(deps, clock),
        ])


SERVICE = define_service("runtime", settings_factory=RuntimeSettings, build=build)
