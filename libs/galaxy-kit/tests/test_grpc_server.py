"""The kit's interceptor on a real grpc.aio server: unary and server-streaming methods alike.

A domain error becomes its status, an unexpected exception INTERNAL with no detail leaked,
a stream's messages before the error still reach the client, and every call is counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from galaxy_kit.errors import NotFound
from galaxy_kit.grpc_server import INTERNAL_ERROR_MESSAGE, RPC_TOTAL, build_server

SERVICE = "galaxy.test.v1.Probe"


def _count(method: str, code: str) -> float:
    return RPC_TOTAL.labels(f"/{SERVICE}/{method}", code)._value.get()


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if request == b"missing":
        raise NotFound("no such thing")
    if request == b"bug":
        raise RuntimeError("secret detail of a bug")
    return request


async def _count_up(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    """Three messages, then the failure the request names (if any)."""
    for n in range(3):
        yield str(n).encode()
    if request == b"missing":
        raise NotFound("ran out")
    if request == b"bug":
        raise RuntimeError("secret detail of a bug")


async def _writes(request: bytes, context: grpc.aio.ServicerContext) -> None:
    """A stream written with context.write instead of yield."""
    await context.write(b"a")
    await context.write(b"b")


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = build_server()
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(SERVICE, {
            "Echo": grpc.unary_unary_rpc_method_handler(_echo),
            "CountUp": grpc.unary_stream_rpc_method_handler(_count_up),
            "Writes": grpc.unary_stream_rpc_method_handler(_writes),
        })
    ])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()
        await server.stop(None)


async def test_unary_errors_map_to_statuses(channel):
    echo = channel.unary_unary(f"/{SERVICE}/Echo")
    assert await echo(b"hi", timeout=10) == b"hi"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await echo(b"missing", timeout=10)
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.NOT_FOUND, "no such thing")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await echo(b"bug", timeout=10)
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)


async def test_a_stream_is_mapped_and_counted_like_a_unary_call(channel):
    count_up = channel.unary_stream(f"/{SERVICE}/CountUp")
    before = {code: _count("CountUp", code) for code in ("OK", "NOT_FOUND", "INTERNAL")}

    assert [m async for m in count_up(b"", timeout=10)] == [b"0", b"1", b"2"]

    received = []
    call = count_up(b"missing", timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for message in call:
            received.append(message)
    assert received == [b"0", b"1", b"2"]  # what was sent before the error arrives
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.NOT_FOUND, "ran out")

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _ in count_up(b"bug", timeout=10):
            pass
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)

    assert _count("CountUp", "OK") == before["OK"] + 1
    assert _count("CountUp", "NOT_FOUND") == before["NOT_FOUND"] + 1
    assert _count("CountUp", "INTERNAL") == before["INTERNAL"] + 1


async def test_a_stream_written_with_context_write_still_works(channel):
    writes = channel.unary_stream(f"/{SERVICE}/Writes")
    assert [m async for m in writes(b"", timeout=10)] == [b"a", b"b"]
