"""Benchmark: runtime's start latency and tick precision, with many games due in the same minute.

Starts a private PostgreSQL and the runtime service in this process (local-process driver: every
game is a real `python -m galaxy_engine`), registers the reference engine, asks runtime to start
`--games` games (as lobby's StartRuntime does, all at once) on the schedule `* * * * *`, then lets
`--minutes` minute slots pass with every game due at the same instant.

- start latency: StartRuntime request → the runtime recorded `running` (engine created, healthy,
  roster initialised), p50/p99/max;
- tick precision: the cron slot's time → the moment runtime sent the engine its turn (turn_ticks.
  started_at − slot_at) over every scheduled tick, p50/p99/max (goal: p99 ≤ 1 s), and whether any
  slot ran twice or was missed;
- CPU: runtime's CPU (this process: the bench itself only sleeps and reads at the end) and the
  engines' CPU over each measured minute, per tick, and the load average, since the machine may be
  shared.

`--profile FILE` samples this process with py-spy (raw/folded format) from a few seconds before the
first measured slot to 20 s after it; `bench/profile_summary.py FILE` summarises it.

Every engine process the run started is stopped when it ends, however it ends (Ctrl-C, SIGTERM,
SIGHUP, an error): runtime stops its own engines on shutdown, and then the bench sweeps any process
still serving a state directory of this run. Only a SIGKILL of the bench leaves them; the bench
prints its state directory first, and `pgrep -f <that directory>` finds them.

Run: `uv run python bench/runtime_ticks.py [--games 200] [--minutes 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
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

#: The first measured slot is profiled from this long before it to PROFILE_AFTER after it.
PROFILE_BEFORE, PROFILE_AFTER = 5.0, 20.0
#: How long after the last measured slot's first 20 s the bench waits for its turns to be recorded.
SETTLE_SECONDS = 60.0
#: The first measured slot is at least this far from the moment every game is running and idle.
QUIET_SECONDS = 15.0


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


def engine_pids(state: Path) -> list[int]:
    """Every live engine process serving a state directory under `state` (this run's engines only)."""
    marker = str(state).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"galaxy_engine" in cmdline and marker in cmdline:
            pids.append(int(entry.name))
    return pids


def stop_engines(state: Path) -> int:
    """SIGTERM, then SIGKILL after 10 s, every engine of this run still running; how many there were."""
    pids = engine_pids(state)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while (left := engine_pids(state)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not left:
            break
    return len(pids)


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def engines_cpu(state: Path) -> float:
    """CPU seconds used so far by this run's live engines (utime + stime from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in engine_pids(state):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def start_profile(out: Path, seconds: float) -> subprocess.Popen:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([py_spy, "record", "-p", str(os.getpid()), "-d", str(int(seconds)), "-r", "100",
                             "-f", "raw", "-o", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def main(games: int, minutes: int, concurrency: int, state: Path, profile: Path | None) -> None:
    cluster = PostgresCluster(state / "pg", free_port(), fsync=False)
    cluster.init()
    cluster.start()
    settings = RuntimeSettings(
        database_url=cluster.dsn, runtime_relay_enabled=False, lobby_grpc_target=f"127.0.0.1:{free_port()}",
        runtime_local_state_dir=str(state / "engines"), runtime_operations_concurrency=concurrency,
        runtime_register_versions="1.0.0=galaxy-engine:local", runtime_health_interval_seconds=30.0,
        db_pool_size=20, log_level="warning",
    )
    profiler = None
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
                attempts = await conn.fetchval(
                    "SELECT coalesce(sum(attempts - 1), 0) FROM runtime.runtime_operations WHERE op = 'start'")
                # Every game due in the same measured minute, and the machine quiet before it: the
                # turns of slots that fell during the start burst done, then the first slot at least
                # QUIET_SECONDS away (the measure is the minute, not the burst of starts before it).
                while await conn.fetchval("SELECT count(*) FROM runtime.turn_ticks "
                                          "WHERE status IN ('claimed', 'retry')"):
                    await asyncio.sleep(0.5)
                first_slot = await conn.fetchval(
                    "SELECT date_trunc('minute', greatest(max(next_slot_at), now() + make_interval(secs => $1))"
                    " + interval '59.999 seconds') FROM runtime.runtimes", QUIET_SECONDS)
                print(f"{games} games started in {all_started:.1f} s ({len(failed)} failed, {attempts} start "
                      f"attempts retried); measuring the slots from {first_slot:%H:%M} for {minutes} minute(s)")
                window_start = first_slot.timestamp() - PROFILE_BEFORE
                await asyncio.sleep(max(0.0, window_start - time.time()))
                if profile is not None:
                    profiler = start_profile(profile, PROFILE_BEFORE + PROFILE_AFTER)
                cpu_before, engines_before = process_cpu(), engines_cpu(state)
                # The last measured slot, 20 s for its turns to be asked, then until every one is
                # recorded (started_at is written with the outcome), at most SETTLE_SECONDS more.
                end = first_slot.timestamp() + 60 * (minutes - 1) + 20
                await asyncio.sleep(max(0.0, end - time.time()))
                while True:
                    ticks = await conn.fetch(
                        "SELECT game_id, slot_at, kind, claimed_at, started_at, status FROM runtime.turn_ticks "
                        "WHERE slot_at >= $1 AND slot_at < $1 + make_interval(mins => $2)", first_slot, minutes)
                    settled = all(t["status"] in ("done", "failed") for t in ticks)
                    if settled or time.time() > end + SETTLE_SECONDS:
                        break
                    await asyncio.sleep(1)
                cpu = (process_cpu() - cpu_before, engines_cpu(state) - engines_before)
                load = os.getloadavg()
            finally:
                await conn.close()
            report(games, minutes, failed, latencies, ticks, cpu, load)
    except TimeoutError:
        print("(runtime took longer than 30 s to stop its engines; the bench stops the rest)")
    finally:
        if profiler is not None:
            profiler.wait()
            print(f"profile: {profile} (bench/profile_summary.py {profile})")
        cluster.stop()


def report(games: int, minutes: int, failed: list, latencies: list[float], ticks: list,
           cpu: tuple[float, float], load: tuple[float, float, float]) -> None:
    precision = [t["started_at"].timestamp() - t["slot_at"].timestamp() for t in ticks if t["started_at"]]
    unrecorded = sum(1 for t in ticks if not t["started_at"])
    per_slot = {}
    for t in ticks:
        per_slot.setdefault((t["game_id"], t["slot_at"]), 0)
        per_slot[(t["game_id"], t["slot_at"])] += 1
    expected = (games - len(failed)) * minutes
    done = sum(1 for t in ticks if t["status"] == "done")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores)")
    print(line("start latency (request → running)", latencies))
    print(line("tick precision (slot → turn start)", precision))
    print(line("  of which slot → claimed", [t["claimed_at"].timestamp() - t["slot_at"].timestamp() for t in ticks]))
    for slot in sorted({t["slot_at"] for t in ticks}):
        print(line(f"  slot {slot:%H:%M}", [t["started_at"].timestamp() - t["slot_at"].timestamp()
                                          for t in ticks if t["slot_at"] == slot and t["started_at"]]))
    print(f"slots: expected {expected}, ticked {len(per_slot)}, ran twice "
          f"{sum(1 for n in per_slot.values() if n > 1)}, done {done}, not recorded {unrecorded}; "
          f"goal p99 ≤ 1000 ms: "
          f"{'met' if precision and not unrecorded and percentile(precision, 0.99) <= 1.0 else 'NOT met'}")
    if done:
        print(f"CPU over the measured minutes: runtime {cpu[0]:.2f} s ({cpu[0] / done * 1000:.1f} ms per tick), "
              f"engines {cpu[1]:.2f} s ({cpu[1] / done * 1000:.1f} ms per turn)")


def run(args: argparse.Namespace) -> None:
    state = Path(tempfile.mkdtemp(prefix="galaxy-bench-runtime-"))
    print(f"state directory: {state}", flush=True)

    async def guarded() -> None:
        # SIGTERM and SIGHUP end the run like Ctrl-C does: cancelled, so every cleanup below runs.
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)
        await main(args.games, args.minutes, args.concurrency, state, args.profile)

    try:
        asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; stopping this run's engines")
    finally:
        # Ignore further Ctrl-C / SIGTERM while the sweep runs: an interrupted sweep is how engines leak.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        left = stop_engines(state)
        if left:
            print(f"stopped {left} engine process(es) runtime had left running")
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="operations one runtime runs at once")
    parser.add_argument("--profile", type=Path, help="py-spy this process around the first measured slot")
    run(parser.parse_args())
