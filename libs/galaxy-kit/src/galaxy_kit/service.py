"""Process lifecycle of a Galaxy service.

`run_service(build)` is a service's whole `main()`: configure logging, open
the database engine, apply the service's migrations, serve gRPC (health
NOT_SERVING until start-up is done), start the background workers (outbox
relay, consumers, schedulers, and the retention worker that prunes published
outbox rows, old inbox rows and whatever the service adds to
`context.retention`), then wait for SIGTERM/SIGINT and stop in the reverse
order, letting in-flight RPCs finish within the grace period.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import grpc
import sqlalchemy as sa
from prometheus_client import start_http_server
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from galaxy_kit import db
from galaxy_kit import logging as kit_logging
from galaxy_kit.events.outbox import OutboxRelay
from galaxy_kit.events.schema import inbox_table, outbox_table
from galaxy_kit.grpc_server import HealthReporter, build_server
from galaxy_kit.heap import freeze_startup_heap
from galaxy_kit.migrations import upgrade_in_child, upgrade_to_head
from galaxy_kit.retention import RetentionRule, RetentionWorker, event_table_rules
from galaxy_kit.settings import ServiceSettings

log = kit_logging.get_logger(__name__)


class BackgroundWorker(Protocol):
    """Something that runs until asked to stop: an outbox relay, a consumer, a scheduler."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ServiceContext:
    """What a service's `build` function gets to wire its servicers and workers.

    `retention` starts with the rules of the service's outbox and inbox; `build` may add
    rules for its own tables. One RetentionWorker applies them (galaxy_kit.retention).
    """

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    server: grpc.aio.Server
    #: Single-statement reads off the ORM (hot paths); see galaxy_kit.db.Reads.
    reads: db.Reads
    workers: list[BackgroundWorker] = field(default_factory=list)
    retention: list[RetentionRule] = field(default_factory=list)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    """A service's identity: its name (= its Postgres schema), settings, migrations and wiring."""

    name: str
    settings_factory: Callable[[], ServiceSettings]
    migrations: Path
    grpc_service_names: list[str]
    build: Callable[[ServiceContext], Awaitable[None] | None]
    #: The schema has the kit's `outbox` and `inbox` (create_event_tables in its first revision).
    event_tables: bool = True


def define_service(
    name: str,
    *,
    settings_factory: Callable[[], ServiceSettings],
    build: Callable[[ServiceContext], Awaitable[None] | None],
    event_tables: bool = True,
) -> ServiceDefinition:
    """The definition of a service laid out by convention.

    Its migrations live in `galaxy_<name>/migrations` and its gRPC API is
    `galaxy.<name>.v1.<Name>Service` (docs/contracts.md), which health reports.
    With `event_tables` (the default: every service's first revision creates them) the
    published outbox rows and old inbox rows of its schema are pruned (galaxy_kit.retention).
    """
    package = importlib.import_module(f"galaxy_{name}")
    stubs = importlib.import_module(f"galaxy.{name}.v1.{name}_pb2")
    grpc_service = stubs.DESCRIPTOR.services_by_name[f"{name.capitalize()}Service"].full_name
    return ServiceDefinition(
        name=name,
        settings_factory=settings_factory,
        migrations=Path(package.__file__).parent / "migrations",
        grpc_service_names=[grpc_service],
        build=build,
        event_tables=event_tables,
    )


def default_retention(
    definition: ServiceDefinition, settings: ServiceSettings
) -> list[RetentionRule]:
    """The retention rules every service gets: its own outbox and inbox."""
    if not definition.event_tables:
        return []
    metadata = sa.MetaData(schema=definition.name)
    return event_table_rules(
        outbox_table(metadata),
        inbox_table(metadata),
        outbox_keep_for=timedelta(seconds=settings.outbox_retention_seconds),
        inbox_keep_for=timedelta(seconds=settings.inbox_retention_seconds),
    )


def apply_event_settings(workers: list[BackgroundWorker], settings: ServiceSettings) -> None:
    """Give the service's outbox relays the service-wide attempt cap, unless one chose its own."""
    for worker in workers:
        if isinstance(worker, OutboxRelay) and worker.cap_from_settings:
            worker.max_attempts = settings.outbox_max_attempts


async def serve(definition: ServiceDefinition, settings: ServiceSettings | None = None,
                *, stop_event: asyncio.Event | None = None, migrate_in_child: bool = False,
                freeze_heap: bool = False) -> None:
    """Run the service until `stop_event` is set.

    `migrate_in_child`: apply the migrations in a child process, so Alembic is
    never imported here (a service process's resident memory); in-process
    callers such as tests leave it off and save the child's start-up.
    `freeze_heap`: once ready, move every object made so far out of the cyclic
    garbage collector's reach (`freeze_startup_heap`); for a service process,
    not for a test process that serves many times.
    """
    settings = settings or definition.settings_factory()
    stop_event = stop_event or asyncio.Event()
    engine = db.create_engine(
        settings.database_dsn(), application_name=f"galaxy-{definition.name}", pool_size=settings.db_pool_size
    )
    reads = db.Reads(
        settings.database_dsn(), application_name=f"galaxy-{definition.name}", max_size=settings.db_pool_size
    )
    server = build_server(reuse_port=settings.grpc_reuse_port)
    health = HealthReporter(server, definition.grpc_service_names)
    context = ServiceContext(settings, engine, db.session_factory(engine), server, reads)
    context.retention.extend(default_retention(definition, settings))
    tasks: list[asyncio.Task[Any]] = []
    started = False
    try:
        await db.wait_for_database(
            settings.database_dsn(),
            timeout=settings.database_wait_seconds,
            on_retry=lambda attempt, error, delay: log.warning(
                "database_unreachable_retrying", attempt=attempt, error=repr(error), retry_in=delay
            ),
        )
        if migrate_in_child:
            await upgrade_in_child(settings.database_dsn(), script_location=definition.migrations,
                                   schema=definition.name)
        else:
            await upgrade_to_head(engine, script_location=definition.migrations, schema=definition.name)
        log.info("migrations_applied", schema=definition.name)
        # grpc.aio accepts servicers only before start, so wiring happens first;
        # health stays NOT_SERVING until the workers are running too.
        built = definition.build(context)
        if built is not None:
            await built
        apply_event_settings(context.workers, settings)
        if context.retention:
            context.workers.append(
                RetentionWorker(
                    engine,
                    context.retention,
                    interval=settings.retention_interval_seconds,
                    batch_size=settings.retention_batch_size,
                )
            )
        address = settings.listen_addr()
        if server.add_insecure_port(address) == 0:
            raise RuntimeError(f"cannot bind gRPC listener on {address}")
        await health.set(serving=False)  # grpc_health starts "" as SERVING
        await server.start()
        started = True
        log.info("grpc_listening", address=address)
        for hook in context.on_startup:
            await hook()
        tasks = [asyncio.create_task(worker.run(), name=type(worker).__name__) for worker in context.workers]
        if freeze_heap:
            freeze_startup_heap()
        await health.set(serving=True)
        log.info("service_ready", service=definition.name)
        waiter = asyncio.create_task(stop_event.wait())
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done() and task.exception() is not None:
                log.error("worker_crashed", worker=task.get_name(), error=repr(task.exception()))
                raise RuntimeError(f"background worker {task.get_name()} crashed") from task.exception()
        waiter.cancel()
    finally:
        log.info("service_stopping", service=definition.name)
        if started:
            await health.set(serving=False)
            await server.stop(settings.shutdown_grace_seconds)
        for worker in reversed(context.workers):
            await worker.stop()
        if tasks:
            _, unfinished = await asyncio.wait(tasks, timeout=settings.shutdown_grace_seconds)
            # The shutdown hooks close what the workers use (runtime's driver, channels): a worker
            # still running past the grace would act on a closed driver (an engine started after
            # the driver stopped tracking engines is an orphan), so it is cancelled and awaited.
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=settings.shutdown_grace_seconds)
        for hook in reversed(context.on_shutdown):
            await hook()
        await reads.close()
        await engine.dispose()
        log.info("service_stopped", service=definition.name)


def _setting_name(location: tuple[Any, ...]) -> str:
    """The environment variable of a settings field (`database_url` → `GALAXY_DATABASE_URL`)."""
    return "GALAXY_" + "_".join(str(part) for part in location).upper() if location else "settings"


def run_service(definition: ServiceDefinition) -> None:
    """Entry point of `python -m galaxy_<name>`; returns when the process was asked to stop."""
    try:
        settings = definition.settings_factory()
    except ValidationError as error:
        # A misconfigured process says what is wrong in one line per setting, not a traceback.
        problems = "\n".join(f"  {_setting_name(e['loc'])}: {e['msg']}" for e in error.errors())
        raise SystemExit(f"galaxy-{definition.name} refuses to start: invalid configuration\n{problems}") from None
    kit_logging.configure(settings, service=definition.name)
    if settings.metrics_listen_addr:
        host, _, port = settings.metrics_listen_addr.rpartition(":")
        start_http_server(int(port), addr=host or "0.0.0.0")

    async def _main() -> None:
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop_event.set)
        await serve(definition, settings, stop_event=stop_event, migrate_in_child=True, freeze_heap=True)

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_main())


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop (libuv: cheaper socket I/O and callbacks than asyncio's), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # e.g. a platform without uvloop wheels
        return None
    return uvloop.new_event_loop
