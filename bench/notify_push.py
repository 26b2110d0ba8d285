"""Benchmark: intent-to-push latency, from a notification intent published to the push a gateway gets.

    uv run --frozen python bench/notify_push.py [--intents 300] [--interval 0.05] [--gateways 2]

Starts the whole embedded stack (private PostgreSQL, embedded broker, every service and the
edge as processes, on free ports) in a temporary directory, subscribes `--gateways` gateways to
the edge's push listener (real gRPC clients), then publishes `--intents` valid intents
(`lobby.game.paused`, one every `--interval` seconds, each for its own user id, so all
partitions are used) straight to `galaxy.notify.intents.v1`, as lobby's relay would.

The path measured: broker → notify's consumer (schema check, insert under the sequence lock,
commit with NOTIFY) → the push stream that holds each gateway → the edge's relay → the gateway.
Latency of one intent at one gateway = the instant the gateway read it − the instant just before
its record was sent to the broker (same machine, same monotonic clock). Printed as p50/p99/max in
milliseconds, with the goal (p99 ≤ 200 ms), and the part before notify's intake handler ran. 30
warm-up intents go first and are not counted: on a fresh stack notify's consumer may still be
joining its group, which delays the first intents by a second or more.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc
from aiokafka import AIOKafkaProducer
from galaxy.edge.v1 import push_pb2, push_pb2_grpc
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy_devstack.stack import Stack
from galaxy_kit.events import new_envelope, pack
from google.protobuf.struct_pb2 import Struct

TOPIC = "galaxy.notify.intents.v1"
GOAL_P99_MS = 200.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Gateway(threading.Thread):
    """A gateway on the edge's push stream: records when each intent's push arrived."""

    def __init__(self, target: str, name: str) -> None:
        super().__init__(daemon=True)
        self.channel = grpc.insecure_channel(target)
        self.call = push_pb2_grpc.PushServiceStub(self.channel).Subscribe(
            push_pb2.SubscribeRequest(gateway_id=name))
        self.arrived: dict[str, float] = {}  # intent's user id -> monotonic instant

    def run(self) -> None:
        try:
            for event in self.call:
                self.arrived.setdefault(event.user_id, time.monotonic())
        except grpc.RpcError:
            pass

    def close(self) -> None:
        self.call.cancel()
        self.channel.close()


def intent(user_id: str) -> bytes:
    params = Struct()
    params.update({"game_id": str(uuid.uuid4()), "game_name": "Bench", "status": "paused", "reason": "bench"})
    message = NotificationIntent(intent_id=str(uuid.uuid4()), user_id=user_id, kind="lobby.game.paused",
                                 params=params, source="lobby")
    message.occurred_at.FromDatetime(datetime.now(UTC))
    return pack(new_envelope(message, "lobby"))


async def publish(bootstrap: str, count: int, interval: float) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    sent: dict[str, float] = {}
    try:
        await producer.send_and_wait(TOPIC, intent(str(uuid.uuid4())))  # topic metadata, warm connection
        for _ in range(count):
            user_id = str(uuid.uuid4())
            record = intent(user_id)
            sent[user_id] = time.monotonic()
            await producer.send_and_wait(TOPIC, record, key=user_id.encode())
            await asyncio.sleep(interval)
    finally:
        await producer.stop()
    return sent


def wait_for(gateways: list[Gateway], sent: dict[str, float], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while any(len(set(sent) & set(g.arrived)) < len(sent) for g in gateways):
        if time.monotonic() > deadline:
            missing = max(len(sent) - len(set(sent) & set(g.arrived)) for g in gateways)
            raise RuntimeError(f"{missing} pushes did not arrive within {timeout:.0f} s")
        time.sleep(0.1)


async def stored_after(dsn: str, user_ids: list[str]) -> list[float]:
    """Per intent: notify's commit time (`created_at`) − the intent's `occurred_at`, in ms."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT extract(epoch FROM created_at - occurred_at) * 1000 AS ms FROM notify.notifications"
            " WHERE user_id = ANY($1::uuid[])", user_ids)
    finally:
        await connection.close()
    return [float(r["ms"]) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two intents")
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the state directory (logs)")
    args = parser.parse_args()

    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-bench-notify-"))
    stack = Stack(state_dir, free_ports=True, admin_username="admin", admin_password=f"bench-{uuid.uuid4().hex}",
                  pg_fsync=False, out=sys.stderr)
    stack.start()
    gateways: list[Gateway] = []
    try:
        gateways = [Gateway(stack.push_target, f"bench-gw-{n}") for n in range(args.gateways)]
        for gateway in gateways:
            gateway.start()
        # Warm-up, not measured: until pushes of intents on every partition arrive, notify's
        # consumer may still be joining its group (the first intents of a fresh stack wait for it).
        wait_for(gateways, asyncio.run(publish(stack.kafka_bootstrap_servers, 30, 0.05)))
        sent = asyncio.run(publish(stack.kafka_bootstrap_servers, args.intents, args.interval))
        wait_for(gateways, sent)

        latencies = [(g.arrived[u] - at) * 1000 for g in gateways for u, at in sent.items()]
        stored = asyncio.run(stored_after(stack.database_url, list(sent)))
        p99 = percentile(latencies, 99)
        print(f"intent published → push read by a gateway, {len(sent)} intents x {len(gateways)} gateways "
              f"(one every {args.interval * 1000:.0f} ms):")
        print(f"  p50 {percentile(latencies, 50):8.1f} ms")
        print(f"  p99 {p99:8.1f} ms   goal ≤ {GOAL_P99_MS:.0f} ms: {'met' if p99 <= GOAL_P99_MS else 'NOT met'}")
        print(f"  max {max(latencies):8.1f} ms   mean {statistics.fmean(latencies):.1f} ms")
        slow = [n for n, (u, at) in enumerate(sent.items()) if any((g.arrived[u] - at) > 0.2 for g in gateways)]
        print(f"intents slower than 200 ms (by publishing order): {slow[:20]}{' ...' if len(slow) > 20 else ''}")
        print(f"of which intent published → notification stored (broker and intake; wall clocks): "
              f"p50 {percentile(stored, 50):.1f} ms, p99 {percentile(stored, 99):.1f} ms, max {max(stored):.1f} ms")
        return 0
    finally:
        for gateway in gateways:
            gateway.close()
        stack.stop(quiet=True)
        if args.keep:
            print(f"state kept in {state_dir}", file=sys.stderr)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
