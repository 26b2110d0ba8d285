"""On start-up runtime adopts the engines its runtimes record and removes the orphans it finds."""

from __future__ import annotations

import uuid

from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE
from galaxy_runtime.drivers.local import LocalProcessDriver
from runtime_helpers import Runtime, runtime_settings
from test_engine_versions import create
from test_lifecycle import (
    _process_alive,
    _status_is,
    engine_game,
    runtime_row,
    start_request,
    until,
)


async def test_a_new_runtime_adopts_its_engines_and_removes_orphans(fresh_database_dsn, kafka_bootstrap, tmp_path):
    state = str(tmp_path / "engines")

    def settings():
        # Engines outlive the runtime that started them (as after a crash), orphans are removed at once.
        return runtime_settings(fresh_database_dsn, kafka_bootstrap, state,
                                runtime_local_stop_engines_on_exit=False, runtime_orphan_grace_seconds=0)

    game_id = str(uuid.uuid4())
    async with running_service(SERVICE, settings()) as first:
        runtime = Runtime(runtime_pb2_grpc.RuntimeServiceStub(first.channel), fresh_database_dsn, first.settings)
        await create(runtime.stub, "1.0.0", image="local")
        await runtime.stub.StartRuntime(start_request(game_id))
        before = await until(lambda: _status_is(runtime, game_id, "running"))
    pid = int(before["engine_ref"].removeprefix("pid:"))
    assert _process_alive(pid)  # the runtime is gone, its engine runs on

    orphan_driver = LocalProcessDriver(state, first.settings.runtime_local_python, stop_on_exit=False)
    orphan = await orphan_driver.create(str(uuid.uuid4()), "local")  # an engine no runtime records
    orphan_pid = int(orphan.ref.removeprefix("pid:"))
    assert _process_alive(orphan_pid)

    async with running_service(SERVICE, settings()) as second:
        runtime = Runtime(runtime_pb2_grpc.RuntimeServiceStub(second.channel), fresh_database_dsn, second.settings)
        await until(lambda: _gone(orphan_pid))
        after = await runtime_row(runtime, game_id)
        assert (after["engine_ref"], after["status"], after["engine_health"]) == (before["engine_ref"], "running",
                                                                                 "healthy")
        assert _process_alive(pid)
        assert (await engine_game(after["endpoint"]))["races"][0]["race"] == "Vega"
        await LocalProcessDriver(state, second.settings.runtime_local_python).remove(game_id)


async def _gone(pid: int) -> bool:
    return not _process_alive(pid)
