"""Two runtime replicas on one database, both running every worker, real engines, the real clock:
every game's minute slot is ticked exactly once and each engine ran exactly that many turns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from galaxy.runtime.v1 import runtime_pb2 as pb
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE
from runtime_helpers import Runtime, runtime_settings
from test_engine_versions import create
from test_lifecycle import _status_is, engine_game, rows, start_request, until

GAMES = 4


async def test_two_replicas_tick_each_slot_once(fresh_database_dsn, kafka_bootstrap, tmp_path):
    def settings(name: str):
        return runtime_settings(fresh_database_dsn, kafka_bootstrap, str(tmp_path / "engines"),
                                runtime_replica_id=name, runtime_tick_interval_seconds=0.05)

    async with running_service(SERVICE, settings("a")) as a, running_service(SERVICE, settings("b")) as b:
        stubs = [runtime_pb2_grpc.RuntimeServiceStub(s.channel) for s in (a, b)]
        runtime = Runtime(stubs[0], fresh_database_dsn, a.settings)
        await create(stubs[0], "1.0.0", image="local")
        games = [str(uuid.uuid4()) for _ in range(GAMES)]
        for i, game_id in enumerate(games):
            request = start_request(game_id)
            request.turn_schedule = "* * * * *"
            await stubs[i % 2].StartRuntime(request)
        for game_id in games:
            await until(lambda g=game_id: _status_is(runtime, g, "running"), timeout=120)
        # Every game's next slot is the same minute; let it and the one after pass.
        (first,) = {r["next_slot_at"] for r in await rows(runtime, "SELECT next_slot_at FROM runtime.runtimes")}
        second = first + timedelta(minutes=1)

        async def both_slots_done():
            done = await rows(runtime, "SELECT count(*) AS n FROM runtime.turn_ticks "
                                       "WHERE status = 'done' AND slot_at = ANY($1)", [first, second])
            return done[0]["n"] == 2 * GAMES
        await until(both_slots_done, timeout=(second - datetime.now(UTC)).total_seconds() + 60)
        ticks = await rows(runtime, "SELECT game_id, slot_at, kind, turn, claimed_by FROM runtime.turn_ticks "
                                    "ORDER BY game_id, slot_at")
        assert len(ticks) == 2 * GAMES  # the primary key (game, slot) makes a second claim impossible anyway
        assert {(str(t["game_id"]), t["slot_at"], t["turn"]) for t in ticks} == {
            (g, slot, turn) for g in games for slot, turn in ((first, 1), (second, 2))}
        assert {t["kind"] for t in ticks} <= {"scheduled", "catch_up"}
        for game_id in games:
            (row,) = await rows(runtime, "SELECT endpoint, current_turn FROM runtime.runtimes WHERE game_id = $1",
                                uuid.UUID(game_id))
            assert row["current_turn"] == 2
            assert (await engine_game(row["endpoint"]))["turn"] == 2
        for stub in stubs:  # both replicas answer for every game
            for game_id in games:
                record = await stub.AdminRuntimesGet(pb.AdminRuntimesGetRequest(game_id=game_id))
                assert record.status == "running"
