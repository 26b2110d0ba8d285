"""The edge's HTTP/1.1 protocol: uvicorn's httptools protocol, its parser errors in the envelope.

Which layer answers a malformed request (docs/contracts.md, "Malformed HTTP"):

* A request the HTTP parser cannot frame — a bad request line, a
  Content-Length that is not one decimal number (`COM1`, `-1`, two different
  values), bytes not allowed in a header name or value, a bad chunk — never
  reaches the app: without framing there is no request to route. The server
  answers it, through `send_400_response` below, with `400 invalid_request` in
  the envelope and closes the connection (the rest of the bytes cannot be
  trusted to start a next request).
* Everything the parser accepts reaches the app, which answers every failure
  in the envelope itself (validation, 404/405, exception handlers).

So whatever the edge answers, it answers in the envelope. uvicorn's own
answer would be `400 text/plain "Invalid HTTP request received."`; the raw
socket tests of edge-backend/tests/test_malformed_http.py pin this one, so an
uvicorn upgrade that changes the hook fails there.

One write per response: uvicorn writes a response's head and its body with two
`transport.write` calls, i.e. two `send()` system calls and (with TCP_NODELAY)
two segments the client wakes up for; in the profile of the user read the head's
write alone was 14 % of the edge's samples. The protocol's transport holds what
one step of the event loop writes and writes it at once at the end of the step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from galaxy_edge.errors import INVALID_REQUEST, JSON_MEDIA_TYPE, envelope_bytes

MALFORMED_REQUEST_MESSAGE = "malformed HTTP request"


class OneWritePerStep:
    """A transport whose writes within one event-loop step leave as one write.

    The first write of a step schedules the flush (`call_soon`: it runs before the
    loop polls for I/O again, so nothing waits for the network); later writes of the
    same step join it. Closing flushes first, so nothing written is lost or reordered.
    Everything else is the wrapped transport's.
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = [data]
            self._loop.call_soon(self._flush)
        else:
            held.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def get_write_buffer_size(self) -> int:
        held = sum(len(data) for data in self._held) if self._held else 0
        return held + self._transport.get_write_buffer_size()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol whose parser-level 400 is the error envelope, and whose
    responses leave in one write each (`OneWritePerStep`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # After uvicorn's own set-up, which reads the addresses and builds its flow control
        # on the real transport; every request's cycle is handed this one.
        self.transport = OneWritePerStep(transport, self.loop)  # type: ignore[assignment]

    def send_400_response(self, msg: str) -> None:
        body = envelope_bytes(INVALID_REQUEST, MALFORMED_REQUEST_MESSAGE)
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: " + JSON_MEDIA_TYPE.encode() + b"\r\n")
        head.append(b"content-length: " + str(len(body)).encode() + b"\r\n")
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        self.transport.close()
