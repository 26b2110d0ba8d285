"""Benchmark: the public game list and a game's detail through the edge, with 10,000 games stored.

    uv run --frozen python bench/lobby_reads.py [--games 10000] [--seconds 15] [--connections 20]

Starts the whole embedded stack (private PostgreSQL, embedded broker, every
service and the edge as processes, on free ports) in a temporary directory,
signs one user in, stores `--games` public games straight into `lobby.games`
(the reads under test do not care how they got there), then loads the edge:

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
"""

from __future__ import annotations

import argparse
import asyncio
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

STORE_GAMES = """
INSERT INTO lobby.games (game_id, game_name, visibility, owner_user_id, status, min_players, max_players,
    start_gap_hours, start_gap_players, enrollment_ends_at, turn_schedule, target_engine_version,
    runtime_status, current_turn, created_at, updated_at)
SELECT gen_random_uuid(), 'Bench game ' || n, 'public', NULL,
       (ARRAY['enrollment_open', 'ready_to_start', 'running', 'paused'])[1 + n % 4],
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the state directory (logs)")
    args = parser.parse_args()

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
        results = {}
        for name, path, lua, paths in (
            ("public list (page of 50 + total)", list_path, None, [list_path]),
            ("game detail", "/api/v1/user/lobby/games/", script, [f"/api/v1/user/lobby/games/{i}" for i in ids]),
        ):
            if tool == "wrk":
                results[name] = run_wrk(stack.edge_url + path, user_id, args.seconds, args.connections, lua)
            else:
                results[name] = asyncio.run(run_httpx(stack.edge_url, paths, user_id, args.seconds,
                                                      args.connections))
        from galaxy.lobby.v1 import lobby_pb2 as pb

        target = stack.ports.grpc_target("lobby")
        direct = {
            "public list, lobby gRPC only": asyncio.run(run_grpc(
                target, [pb.UserLobbyGamesListRequest(user_id=user_id, page=1, page_size=50)],
                "UserLobbyGamesList", args.seconds, args.connections)),
            "game detail, lobby gRPC only": asyncio.run(run_grpc(
                target, [pb.UserLobbyGamesGetRequest(user_id=user_id, game_id=i) for i in ids],
                "UserLobbyGamesGet", args.seconds, args.connections)),
        }
        print(f"lobby reads through the edge, {args.games} games stored, {args.connections} connections, "
              f"{args.seconds} s each, load by {tool}:")
        for name, (rps, p50, p99) in {**results, **direct}.items():
            print(f"  {name:34s} {rps:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        return 0
    finally:
        stack.stop(quiet=True)
        if args.keep:
            print(f"state kept in {state_dir}", file=sys.stderr)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
