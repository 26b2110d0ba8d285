"""A game's runtime under the local-process driver, over real gRPC with real engine processes:
start, a forced turn, pause/resume, restart and patch with the state kept, a killed engine brought
back by the health watcher, stop (the engine is gone); refusals that change nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from pathlib import Path

import asyncpg
import grpc
import httpx
from galaxy.runtime.v1 import runtime_pb2 as pb
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.db import plain_dsn
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE
from runtime_helpers import Runtime, runtime_settings
from test_engine_versions import create, error_of

YEARLY = "0 0 1 1 *"  # no slot falls due during a test: turns here are forced


async def rows(runtime, sql: str, *args):
    connection = await asyncpg.connect(plain_dsn(runtime.database_url))
    try:
        return [dict(r) for r in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


async def runtime_row(runtime, game_id: str) -> dict:
    (row,) = await rows(runtime, "SELECT * FROM runtime.runtimes WHERE game_id = $1", uuid.UUID(game_id))
    return row


async def until(check, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.1)


def start_request(game_id: str, version: str = "1.0.0") -> pb.StartRuntimeRequest:
    request = pb.StartRuntimeRequest(game_id=game_id, engine_version=version, turn_schedule=YEARLY, seed=42)
    for user, race in (("u1", "Vega"), ("u2", "Altair"), ("u3", "Deneb")):
        request.roster.add(user_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, user)), race_name=race)
    return request


async def started(runtime, game_id: str) -> dict:
    await runtime.stub.StartRuntime(start_request(game_id))

    async def running():
        row = await runtime_row(runtime, game_id)
        assert row["status"] != "start_failed", row
        return row if row["status"] == "running" else None
    return await until(running)


async def engine_game(endpoint: str) -> dict:
    async with httpx.AsyncClient() as client:
        return (await client.get(endpoint + "/v1/game")).json()


async def statuses(runtime, game_id: str) -> list[tuple[str, str]]:
    from galaxy.events.v1.envelope_pb2 import EventEnvelope
    from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
    found = []
    for row in await rows(runtime, "SELECT payload FROM runtime.outbox WHERE topic = 'galaxy.runtime.status.v1' "
                                   "ORDER BY created_at, id"):
        envelope = EventEnvelope.FromString(row["payload"])
        event = RuntimeStatusEvent()
        envelope.payload.Unpack(event)
        if event.game_id == game_id:
            found.append((event.status, event.engine_health))
    return found


async def test_start_turn_pause_restart_patch_recover_stop(runtime):
    stub = runtime.stub
    for version in ("1.0.0", "1.0.1", "1.1.0"):
        await create(stub, version, image="local")
    await create(stub, "1.0.2", image="local", enabled=False)
    game_id = str(uuid.uuid4())
    row = await started(runtime, game_id)
    assert row["engine_health"] == "healthy" and row["current_turn"] == 0
    game = await engine_game(row["endpoint"])
    assert [r["race"] for r in game["races"]] == ["Vega", "Altair", "Deneb"] and game["turn"] == 0
    again = await stub.StartRuntime(start_request(game_id))  # lobby retrying a lost answer: the same start
    assert again.op == "start" and again.status == "succeeded"

    forced = await stub.AdminRuntimesForceNextTurn(pb.AdminRuntimesForceNextTurnRequest(
        admin_username="admin", game_id=game_id))
    assert (forced.op, forced.status) == ("force_next_turn", "pending")
    await until(lambda: _turn_is(runtime, game_id, 1))
    assert (await engine_game(row["endpoint"]))["turn"] == 1
    (tick,) = await rows(runtime, "SELECT kind, turn, status FROM runtime.turn_ticks")
    assert tick == {"kind": "forced", "turn": 1, "status": "done"}
    # Every member is told, and the turn travels as the integer 1 (JSON text, not a Struct double).
    told = await intents(runtime, game_id)
    assert sorted(i.user_id for i in told) == sorted(m.user_id for m in start_request(game_id).roster)
    for intent in told:
        assert (intent.kind, intent.source) == ("runtime.turn.completed", "runtime")
        assert not intent.HasField("params")
        params = json.loads(intent.params_json.json, parse_float=_no_float)
        assert params == {"game_id": game_id, "turn": 1} and type(params["turn"]) is int

    paused = await stub.PauseRuntime(pb.PauseRuntimeRequest(game_id=game_id))
    assert (paused.op, paused.status) == ("pause", "succeeded")
    assert (await error_of(stub.PauseRuntime(pb.PauseRuntimeRequest(game_id=game_id)))).code() == \
        grpc.StatusCode.FAILED_PRECONDITION
    await stub.ResumeRuntime(pb.ResumeRuntimeRequest(game_id=game_id))
    assert (await runtime_row(runtime, game_id))["status"] == "running"

    old_ref = row["engine_ref"]
    await stub.AdminRuntimesRestart(pb.AdminRuntimesRestartRequest(admin_username="admin", game_id=game_id))
    restarted = await until(lambda: _replaced(runtime, game_id, old_ref))
    assert (await engine_game(restarted["endpoint"]))["turn"] == 1  # same state

    for target, message in (("1.1.0", "is not a patch of 1.0"), ("1.0.2", "is disabled"),
                            ("1.0.9", "is not registered"), ("1.0", "not a semantic version")):
        error = await error_of(stub.AdminRuntimesPatch(pb.AdminRuntimesPatchRequest(
            admin_username="admin", game_id=game_id, body=pb.RuntimePatchRequest(target_version=target))))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.details(), target
    await stub.AdminRuntimesPatch(pb.AdminRuntimesPatchRequest(
        admin_username="admin", game_id=game_id, body=pb.RuntimePatchRequest(target_version="1.0.1")))
    patched = await until(lambda: _replaced(runtime, game_id, restarted["engine_ref"]))
    assert patched["engine_version"] == "1.0.1"
    assert (await engine_game(patched["endpoint"]))["turn"] == 1

    os.kill(int(patched["engine_ref"].removeprefix("pid:")), signal.SIGKILL)
    recovered = await until(lambda: _replaced(runtime, game_id, patched["engine_ref"]))
    await until(lambda: _healthy(runtime, game_id))
    assert (await engine_game(recovered["endpoint"]))["turn"] == 1
    recoveries = await rows(runtime, "SELECT status, requested_by FROM runtime.runtime_operations "
                                     "WHERE op = 'recover'")
    assert {"status": "succeeded", "requested_by": "health"} in recoveries
    assert ("running", "unhealthy") in await statuses(runtime, game_id)

    stopped = await stub.StopRuntime(pb.StopRuntimeRequest(game_id=game_id, reason="admin_force_stop"))
    assert stopped.op == "stop"
    final = await until(lambda: _status_is(runtime, game_id, "stopped"))
    assert final["engine_ref"] is None
    pid = int(recovered["engine_ref"].removeprefix("pid:"))
    assert not _process_alive(pid)
    async with httpx.AsyncClient() as client:
        try:
            await client.get(recovered["endpoint"] + "/v1/health", timeout=2)
            raise AssertionError("the engine still answers")
        except httpx.HTTPError:
            pass
    seen = [s for s, _ in await statuses(runtime, game_id)]
    assert seen[:2] == ["starting", "running"] and "paused" in seen and seen[-1] == "stopped"


async def intents(runtime, game_id: str) -> list:
    from galaxy.events.v1.envelope_pb2 import EventEnvelope
    from galaxy.events.v1.notify_pb2 import NotificationIntent
    found = []
    for row in await rows(runtime, "SELECT payload FROM runtime.outbox WHERE topic = 'galaxy.notify.intents.v1' "
                                   "ORDER BY created_at, id"):
        intent = NotificationIntent()
        EventEnvelope.FromString(row["payload"]).payload.Unpack(intent)
        if game_id.encode() in intent.params_json.json:
            found.append(intent)
    return found


def _no_float(text: str):
    raise AssertionError(f"a number written as a float: {text}")


async def _turn_is(runtime, game_id, turn):
    return (await runtime_row(runtime, game_id))["current_turn"] == turn


async def _replaced(runtime, game_id, old_ref):
    row = await runtime_row(runtime, game_id)
    return row if row["engine_ref"] not in (None, old_ref) and row["engine_health"] == "healthy" else None


async def _healthy(runtime, game_id):
    return (await runtime_row(runtime, game_id))["engine_health"] == "healthy"


async def _status_is(runtime, game_id, status):
    row = await runtime_row(runtime, game_id)
    return row if row["status"] == status else None


async def test_the_local_driver_runs_the_workspace_engine_whatever_the_image_ref(runtime):
    """image_ref names a container image; the local driver has none to run. It runs the engine
    installed beside runtime (GALAXY_RUNTIME_LOCAL_PYTHON -m galaxy_engine), reniced, for any version;
    the runtime still records the version's image_ref (what the docker driver would run)."""
    image = "registry.example.invalid/galaxy/engine:9.9.9"  # never pulled, never looked up
    await create(runtime.stub, "1.0.0", image=image)
    game_id = str(uuid.uuid4())
    row = await started(runtime, game_id)
    assert row["image_ref"] == image
    got = await runtime.stub.AdminRuntimesGet(pb.AdminRuntimesGetRequest(game_id=game_id))
    assert got.image_ref == image
    pid = int(row["engine_ref"].removeprefix("pid:"))
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    state = Path(runtime.settings.runtime_local_state_dir).resolve() / game_id / "state"
    assert cmdline[:5] == [runtime.settings.runtime_local_python, "-m", "galaxy_engine", "--state-dir", str(state)]
    assert image not in " ".join(cmdline)
    assert os.getpriority(os.PRIO_PROCESS, pid) == runtime.settings.runtime_local_engine_nice == 10
    assert (await engine_game(row["endpoint"]))["turn"] == 0


async def test_start_refusals_change_nothing(runtime):
    stub = runtime.stub
    await create(stub, "1.0.0", image="local", enabled=False)
    game_id = str(uuid.uuid4())
    for request, code, message in (
        (start_request(game_id, "9.9.9"), grpc.StatusCode.INVALID_ARGUMENT, "is not registered"),
        (start_request(game_id, "1.0.0"), grpc.StatusCode.INVALID_ARGUMENT, "is disabled"),
        (start_request("not-a-uuid"), grpc.StatusCode.INVALID_ARGUMENT, "game_id"),
    ):
        error = await error_of(stub.StartRuntime(request))
        assert error.code() == code and message in error.details()
    bad_cron = start_request(game_id)
    bad_cron.turn_schedule = "every day"
    assert "cron" in (await error_of(stub.StartRuntime(bad_cron))).details()
    assert await rows(runtime, "SELECT * FROM runtime.runtimes") == []
    missing = await error_of(stub.PauseRuntime(pb.PauseRuntimeRequest(game_id=game_id)))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    get = await error_of(stub.AdminRuntimesGet(pb.AdminRuntimesGetRequest(game_id=game_id)))
    assert get.code() == grpc.StatusCode.NOT_FOUND


async def test_an_engine_that_cannot_start_ends_in_start_failed_with_the_reason(runtime, tmp_path):
    await create(runtime.stub, "1.0.0", image="local")
    game_id = str(uuid.uuid4())
    # A file where the game's directory must go: the engine cannot be created, every attempt fails.
    (tmp_path / "engines").mkdir(exist_ok=True)
    (tmp_path / "engines" / game_id).write_text("in the way")
    await runtime.stub.StartRuntime(start_request(game_id))
    row = await until(lambda: _status_is(runtime, game_id, "start_failed"), timeout=90)
    assert row["engine_ref"] is None
    (op,) = await rows(runtime, "SELECT status, attempts, error FROM runtime.runtime_operations")
    assert op["status"] == "failed" and op["attempts"] == 3 and op["error"]
    assert [s for s, _ in await statuses(runtime, game_id)] == ["starting", "start_failed"]


def _process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_an_engine_that_exits_at_start_fails_at_once_not_after_the_deadline(
        fresh_database_dsn, kafka_bootstrap, tmp_path):
    """The health wait gives a live engine up to the start deadline, but one whose process is gone
    fails the attempt at once: three attempts end in start_failed long before one deadline."""
    settings = runtime_settings(fresh_database_dsn, kafka_bootstrap, str(tmp_path / "engines"),
                                runtime_local_python="/bin/false", runtime_engine_start_timeout_seconds=600)
    async with running_service(SERVICE, settings) as service:
        runtime = Runtime(runtime_pb2_grpc.RuntimeServiceStub(service.channel), fresh_database_dsn, settings)
        await create(runtime.stub, "1.0.0", image="local")
        game_id = str(uuid.uuid4())
        began = asyncio.get_running_loop().time()
        await runtime.stub.StartRuntime(start_request(game_id))
        await until(lambda: _status_is(runtime, game_id, "start_failed"), timeout=120)
        assert asyncio.get_running_loop().time() - began < 120  # a fifth of one 600 s deadline
        (op,) = await rows(runtime, "SELECT status, attempts, error FROM runtime.runtime_operations")
        assert (op["status"], op["attempts"]) == ("failed", 3)
        assert op["error"] == "the engine exited before it became healthy"
