"""The engine HTTP client against real sockets: a connection dropped before the answer is tried
once more only for calls that may be repeated (a turn, a health check), never for the others."""

from __future__ import annotations

import asyncio

import pytest
from galaxy_runtime.clients import EngineClient, EngineDown

ANSWER = b'{"turn": 3, "ran": false}'


class DroppingEngineStandIn:
    """A stand-in for an engine (a real HTTP/1.1 server on a free port, not the reference engine):
    it closes the first `drops` connections after reading the request, without an answer, as an
    engine closing an idle keep-alive connection at the moment runtime reuses it does; then it
    answers every request with ANSWER."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        if self.drops:
            self.drops -= 1
        else:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                         b"connection: close\r\n\r\n%s" % (len(ANSWER), ANSWER))
            await writer.drain()
        writer.close()


async def serve(stand_in: DroppingEngineStandIn):
    server = await asyncio.start_server(stand_in.handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_repeatable_call_survives_one_dropped_connection():
    stand_in = DroppingEngineStandIn(drops=1)
    server, endpoint = await serve(stand_in)
    client = EngineClient(timeout=5)
    try:
        reply = await client.call(endpoint, "POST", "/v1/turns/3", repeatable=True)
        assert (reply.status, reply.json()) == (200, {"turn": 3, "ran": False})
        assert stand_in.requests == 2
    finally:
        await client.close()
        server.close()


async def test_a_second_drop_or_a_call_that_cannot_be_repeated_is_engine_down():
    for drops, repeatable, requests in ((2, True, 2), (1, False, 1)):
        stand_in = DroppingEngineStandIn(drops=drops)
        server, endpoint = await serve(stand_in)
        client = EngineClient(timeout=5)
        try:
            with pytest.raises(EngineDown):
                await client.call(endpoint, "POST", "/v1/orders", b"{}", repeatable=repeatable)
            assert stand_in.requests == requests  # an order is never sent twice
        finally:
            await client.close()
            server.close()
