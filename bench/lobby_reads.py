"""Benchmark: the public game list and a game's detail through the edge, with 10,000 games stored.

    uv run --frozen python bench/lobby_reads.py [--games 10000] [--seconds 15] [--connections 20]

Starts the whole embedded stack (private PostgreSQL, embedded broker, every
service and the edge as processes, on free ports) in a temporary directory,
signs one user in, stores `--games` public games straight into `lobby.games`
(the reads under test do not care how they got there; none is `ready_to_start`,
which without members the public-game scheduler would move back to
`enrollment_open` a hundred per tick during the run, writes that are not what
is measured), then loads the edge:

- `GET /api/v1/user/lobby/games?page=1&page_size=50` (a page and its total);
- `GET /api/v1/user/lobby/games/{game_id}` (one game's detail, ids spread over
  the whole table).

Then the same two reads straight against lobby over gRPC (no edge, no
identity check), to tell lobby's share from the edge's.

Each is driven for `--seconds` by wrk (`apt-get install -y wrk`) when it is on
PATH, else by an asyncio httpx loop with the same number of connections
(slower itself, so its numbers are a lower bound). Prints requests per second
and p50/p99 latency per route. The goal on two cores: ≥ 1,000 req/s and p99
≤ 30 ms.

The machine is shared, so every route also prints the CPU milliseconds per
request of lobby, the edge and PostgreSQL (read from /proc as bench/hotpaths.py
does) and the load average before it ran. `--profile lobby edge` records py-spy
profiles of those processes during each route (`--out DIR`, raw format for
bench/profile_summary.py); `--json FILE` writes every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from galaxy_devstack.stack import Stack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from account_deletion_cascade import sign_in
from hotpaths import CLK_TCK, children_cpu_seconds, cpu_seconds, postgres_cpu_seconds, profile

#: The processes whose CPU per request is reported (PostgreSQL's backends are added).
MEASURED = ("lobby", "edge")

STORE_GAMES = """
INSERT INTO lobby.games (game_id, game_name, visibility, owner_user_id, status, min_players, max_players,
    start_gap_hours, start_gap_players, enrollment_ends_at, turn_schedule, target_engine_version,
    runtime_status, current_turn, created_at, updated_at)
SELECT gen_random_uuid(), 'Bench game ' || n, 'public', NULL,
       (ARRAY['enrollment_open', 'starting', 'running', 'paused'])[1 + n % 4],
       2, 8, 0, 0, now() + interval '30 days', '0 */6 * * *', '1.4.0', 'not_started', n % 50,
       now() - n * interval '1 second', now()
FROM generate_series(1, $1) AS n
"""

DETAIL_SCRIPT = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
local i = 0
request = function()
  i = i %% #ids + 1
  return wrk.format("GET", "/api/v1/user/lobby/games/" .. ids[i])
end
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def store_games(dsn: str, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(STORE_GAMES, count)
        await conn.execute("ANALYZE lobby.games")
        return [str(r["game_id"]) for r in await conn.fetch("SELECT game_id FROM lobby.games ORDER BY random()")]
    finally:
        await conn.close()


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, user_id: str, seconds: int, connections: int, script: Path | None) -> tuple[float, float, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"X-User-ID: {user_id}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error answers:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = _wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    return rps, p50, p99


async def run_httpx(base: str, paths: list[str], user_id: str, seconds: int,
                    connections: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, headers={"X-User-ID": user_id}, limits=limits,
                                 timeout=30.0) as client:
        async def worker(offset: int) -> None:
            i = offset
            while time.monotonic() < deadline:
                begun = time.perf_counter()
                response = await client.get(paths[i % len(paths)])
                latencies.append((time.perf_counter() - begun) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text}")
                i += connections

        begun = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(connections)))
        elapsed = time.monotonic() - begun
    return len(latencies) / elapsed, statistics.median(latencies), percentile(latencies, 0.99)


async def run_grpc(target: str, requests: list, method: str, seconds: int,
                   connections: int) -> tuple[float, float, float]:
    import grpc
    from galaxy.lobby.v1 import lobby_pb2_grpc

    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    async with grpc.aio.insecure_channel(target) as channel:
        call = getattr(lobby_pb2_grpc.LobbyServiceStub(channel), method)

        async def worker(offset: int) -> None:
            i = offset
            while time.monotonic() < deadline:
                begun = time.perf_counter()
                await call(requests[i % len(requests)], timeout=30)
                latencies.append((time.perf_counter() - begun) * 1000)
                i += connections

        begun = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(connections)))
        elapsed = time.monotonic() - begun
    return len(latencies) / elapsed, statistics.median(latencies), percentile(latencies, 0.99)


class Meter:
    """CPU seconds of lobby, the edge, PostgreSQL (postmaster and backends) and wrk over one route."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.pids = {name: stack.children[name].pid for name in MEASURED}

    def _sample(self) -> dict[str, float]:
        sample = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        sample["postgres"] = postgres_cpu_seconds(self.stack) + self._exited_backends()
        sample["wrk"] = children_cpu_seconds()
        return sample

    def _exited_backends(self) -> float:
        """CPU of backends that already exited (a pool closing a connection): the postmaster's reaped children."""
        postmaster = self.stack.postgres.server_pid() if self.stack.postgres is not None else None
        if postmaster is None:
            return 0.0
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / CLK_TCK  # cutime + cstime

    def measure(self, run, *, profile_names: list[str], out: Path, label: str) -> dict:  # noqa: ANN001
        spies = [profile(self.pids[name], SECONDS_FOR_PROFILE[0], out / f"profile-{label}-{name}.txt")
                 for name in profile_names]
        load = os.getloadavg()[0]
        before, begun = self._sample(), time.monotonic()
        rps, p50, p99 = run()
        elapsed, after = time.monotonic() - begun, self._sample()
        for spy in spies:
            spy.wait()
        requests = max(rps * elapsed, 1.0)
        cpu_ms = {name: round((after[name] - before[name]) * 1000 / requests, 3) for name in after}
        return {"rps": round(rps, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "load1_before": round(load, 2),
                "cpu_ms_per_request": cpu_ms}


#: py-spy's duration, set from --seconds (a list so Meter sees main's value).
SECONDS_FOR_PROFILE = [15]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the state directory (logs)")
    parser.add_argument("--profile", nargs="*", default=[], choices=MEASURED,
                        help="py-spy these processes during each route")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="where profiles go")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    SECONDS_FOR_PROFILE[0] = args.seconds
    args.out.mkdir(parents=True, exist_ok=True)

    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-bench-lobby-"))
    stack = Stack(state_dir, free_ports=True, admin_username="admin", admin_password=f"bench-{uuid.uuid4().hex}",
                  pg_fsync=False, out=sys.stderr)
    stack.start()
    try:
        with httpx.Client(base_url=stack.edge_url, timeout=30.0) as http:
            device = sign_in(http, stack.mail_dir, f"bench-lobby-{uuid.uuid4().hex[:8]}@example.test")
            user_id = http.get(f"/api/v1/internal/sessions/{device}").json()["user_id"]
            ids = asyncio.run(store_games(stack.database_url, args.games))
            listed = http.get("/api/v1/user/lobby/games", headers={"X-User-ID": user_id})
            listed.raise_for_status()
            if listed.json()["total"] != args.games:
                raise RuntimeError(f"the list counts {listed.json()['total']} games, not {args.games}")
        ids_file = state_dir / "game_ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        script = state_dir / "detail.lua"
        script.write_text(DETAIL_SCRIPT % ids_file)
        list_path = "/api/v1/user/lobby/games?page=1&page_size=50"
        tool = "wrk" if shutil.which("wrk") else "httpx"
        meter = Meter(stack)
        results = {}
        for label, name, path, lua, paths in (
            ("list", "public list (page of 50 + total)", list_path, None, [list_path]),
            ("detail", "game detail", "/api/v1/user/lobby/games/", script,
             [f"/api/v1/user/lobby/games/{i}" for i in ids]),
        ):
            if tool == "wrk":
                def run(path=path, lua=lua):  # noqa: ANN202
                    return run_wrk(stack.edge_url + path, user_id, args.seconds, args.connections, lua)
            else:
                def run(paths=paths):  # noqa: ANN202
                    return asyncio.run(run_httpx(stack.edge_url, paths, user_id, args.seconds, args.connections))
            results[name] = meter.measure(run, profile_names=args.profile, out=args.out, label=label)
        from galaxy.lobby.v1 import lobby_pb2 as pb

        target = stack.ports.grpc_target("lobby")
        for label, name, requests, method in (
            ("list-grpc", "public list, lobby gRPC only",
             [pb.UserLobbyGamesListRequest(user_id=user_id, page=1, page_size=50)], "UserLobbyGamesList"),
            ("detail-grpc", "game detail, lobby gRPC only",
             [pb.UserLobbyGamesGetRequest(user_id=user_id, game_id=i) for i in ids], "UserLobbyGamesGet"),
        ):
            def run(requests=requests, method=method):  # noqa: ANN202
                return asyncio.run(run_grpc(target, requests, method, args.seconds, args.connections))
            results[name] = meter.measure(run, profile_names=[n for n in args.profile if n == "lobby"],
                                          out=args.out, label=label)
        print(f"lobby reads through the edge, {args.games} games stored, {args.connections} connections, "
              f"{args.seconds} s each, load by {tool}:")
        for name, figures in results.items():
            cpu = ", ".join(f"{process} {ms:.2f}" for process, ms in figures["cpu_ms_per_request"].items()
                            if process != "wrk" or tool == "wrk")
            print(f"  {name:34s} {figures['rps']:8.0f} req/s   p50 {figures['p50_ms']:6.1f} ms   "
                  f"p99 {figures['p99_ms']:6.1f} ms   CPU ms/request: {cpu}   load {figures['load1_before']:.2f}")
        if args.json:
            args.json.write_text(json.dumps({"games": args.games, "connections": args.connections,
                                             "seconds": args.seconds, "tool": tool, "results": results,
                                             "load_average_end": [round(x, 2) for x in os.getloadavg()]},
                                            indent=2) + "\n")
        return 0
    finally:
        stack.stop(quiet=True)
        if args.keep:
            print(f"state kept in {state_dir}", file=sys.stderr)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
