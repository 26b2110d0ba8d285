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
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from galaxy_edge.errors import INVALID_REQUEST, JSON_MEDIA_TYPE, envelope_bytes

MALFORMED_REQUEST_MESSAGE = "malformed HTTP request"


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol whose parser-level 400 is the error envelope."""

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
