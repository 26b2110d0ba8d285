"""Benchmark: runtime's start latency and tick precision, with many games due in the same minute.

Starts a private PostgreSQL and the runtime service in this process (local-process driver: every
game is a real `python -m galaxy_engine`), registers the reference engine, asks runtime to start
`--games` games (as lobby's StartRuntime does, all at once) on the schedule `* * * * *`, then lets
`--minutes` minute slots pass with every game due at the same instant.

- start latency: StartRuntime request → the runtime recorded `running` (engine created, healthy,
  roster initialised), p50/p99/max;
- tick precision: the cron slot's time → the moment runtime sent the engine its turn (turn_ticks.
  started_at − slot_at) over every scheduled tick, p50/p99/max (goal: p99 ≤ 1 s), and whether any
  slot ran twice or was missed.

Run: `uv run python bench/runtime_ticks.py [--games 200] [--minutes 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from galaxy.runtime.v1 import runtime_pb2 as pb
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_devstack.postgres import PostgresCluster
from galaxy_kit.testing import running_service
from galaxy_runtime.app import SERVICE
from galaxy_runtime.settings import RuntimeSettings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def line(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<34} (none)"
    return (f"{label:<34} n={len(values):<4} p50 {percentile(values, 0.5) * 1000:8.1f} ms   "
            f"p99 {percentile(values, 0.99) * 1000:8.1f} ms   max {max(values) * 1000:8.1f} ms")


async def main(games: int, minutes: int, concurrency: int) -> None:
    state = Path(tempfile.mkdtemp(prefix="galaxy-bench-runtime-"))
    cluster = PostgresCluster(state / "pg", free_port(), fsync=False)
    cluster.init()
    cluster.start()
    settings = RuntimeSettings(
        database_url=cluster.dsn, runtime_relay_enabled=False, lobby_grpc_target=f"127.0.0.1:{free_port()}",
        runtime_local_state_dir=str(state / "engines"), runtime_operations_concurrency=concurrency,
        runtime_register_versions="1.0.0=galaxy-engine:local", runtime_health_interval_seconds=30.0,
        runtime_engine_start_timeout_seconds=120.0, db_pool_size=20, log_level="warning",
    )
    try:
        async with running_service(SERVICE, settings) as service:
            stub = runtime_pb2_grpc.RuntimeServiceStub(service.channel)
            asked: dict[str, float] = {}
            # Lobby starts games as their owners ask; 20 requests in flight is already a burst.
            in_flight = asyncio.Semaphore(20)

            async def start(i: int) -> None:
                game_id = str(uuid.uuid4())
                request = pb.StartRuntimeRequest(game_id=game_id, engine_version="1.0.0",
                                                 turn_schedule="* * * * *", seed=i + 1)
                request.roster.add(user_id=str(uuid.uuid4()), race_name=f"R{i}a")
                request.roster.add(user_id=str(uuid.uuid4()), race_name=f"R{i}b")
                async with in_flight:
                    asked[game_id] = time.time()
                    await stub.StartRuntime(request, timeout=60)

            begun = time.monotonic()
            await asyncio.gather(*(start(i) for i in range(games)))
            conn = await asyncpg.connect(cluster.dsn)
            try:
                while True:
                    rows = await conn.fetch("SELECT game_id, status, started_at FROM runtime.runtimes")
                    done = [r for r in rows if r["status"] in ("running", "start_failed")]
                    if len(done) == games:
                        break
                    await asyncio.sleep(0.5)
                all_started = time.monotonic() - begun
                failed = [r for r in rows if r["status"] != "running"]
                latencies = [r["started_at"].timestamp() - asked[str(r["game_id"])] for r in rows
                             if r["status"] == "running"]
                first_slot = await conn.fetchval("SELECT max(next_slot_at) FROM runtime.runtimes")
                print(f"{games} games started in {all_started:.1f} s ({len(failed)} failed); "
                      f"measuring the slots from {first_slot:%H:%M} for {minutes} minute(s)")
                end = first_slot.timestamp() + 60 * (minutes - 1) + 20
                while time.time() < end:
                    await asyncio.sleep(1)
                ticks = await conn.fetch(
                    "SELECT game_id, slot_at, kind, started_at, status FROM runtime.turn_ticks "
                    "WHERE slot_at >= $1 AND slot_at < $1 + make_interval(mins => $2)", first_slot, minutes)
            finally:
                await conn.close()
            report(games, minutes, failed, latencies, ticks)
    except TimeoutError:
        print("(runtime took longer than 30 s to stop its engines)")
    finally:
        cluster.stop()
        shutil.rmtree(state, ignore_errors=True)


def report(games: int, minutes: int, failed: list, latencies: list[float], ticks: list) -> None:
    precision = [t["started_at"].timestamp() - t["slot_at"].timestamp() for t in ticks if t["started_at"]]
    per_slot = {}
    for t in ticks:
        per_slot.setdefault((t["game_id"], t["slot_at"]), 0)
        per_slot[(t["game_id"], t["slot_at"])] += 1
    expected = (games - len(failed)) * minutes
    print(f"load average: {os.getloadavg()[0]:.2f}  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores)")
    print(line("start latency (request → running)", latencies))
    print(line("tick precision (slot → turn start)", precision))
    print(f"slots: expected {expected}, ticked {len(per_slot)}, ran twice "
          f"{sum(1 for n in per_slot.values() if n > 1)}, done "
          f"{sum(1 for t in ticks if t['status'] == 'done')}; goal p99 ≤ 1000 ms: "
          f"{'met' if precision and percentile(precision, 0.99) <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="operations one runtime runs at once")
    args = parser.parse_args()
    asyncio.run(main(args.games, args.minutes, args.concurrency))
