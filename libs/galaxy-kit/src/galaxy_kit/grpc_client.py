"""Channels from one Galaxy process to another (a service calling a service, the edge calling them).

gRPC's default reconnect back-off starts at 1 s and grows by 1.6 up to 120 s.
A caller whose neighbour was down for a while keeps failing fast with
UNAVAILABLE (503 at the edge) long after the neighbour serves again: the fault
test measured 7 to 12 s after a restart of auth or account that kept them down
for about 15 s, and a longer outage pushes it towards two minutes. Restarts take
seconds, and a connection attempt on a local network costs next to nothing, so
channels made here retry at least every `MAX_RECONNECT_BACKOFF_MS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

INITIAL_RECONNECT_BACKOFF_MS = 200
MAX_RECONNECT_BACKOFF_MS = 1_000

#: Every caller keeps one long-lived channel per neighbour and pings it every 30 s, so a
#: dead peer is noticed (the servers accept pings that often, galaxy_kit.grpc_server).
KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]

RECONNECT_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.initial_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
    ("grpc.min_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
    ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
]


def channel_options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """The keepalive and reconnect options above, plus `extra` (which wins on a repeated key)."""
    options = dict(KEEPALIVE_OPTIONS)
    options.update(dict(RECONNECT_OPTIONS))
    options.update(dict(extra))
    return list(options.items())


def insecure_channel(target: str, *, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """A grpc.aio channel to another Galaxy process that reconnects within about a second."""
    return grpc.aio.insecure_channel(target, options=channel_options(options))
