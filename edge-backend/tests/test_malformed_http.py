"""Malformed HTTP against the real `python -m galaxy_edge` process, over raw sockets.

The decision (galaxy_edge.http, docs/contracts.md "Malformed HTTP"): a
request the HTTP parser cannot frame never reaches the app and the server
answers `400 invalid_request` in the envelope, then closes the connection;
whatever the parser accepts reaches the app, which answers in the envelope.
uvicorn alone answered the first kind with `400 text/plain` (a contract run
once drew `Content-Length: COM1` and failed CI at random).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from galaxy_kit.testing import free_port

#: Importing the edge on a loaded two-core machine has taken over 30 s; generous on purpose.
STARTUP_TIMEOUT_SECONDS = 120.0
USER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SEND_CODE = b"POST /api/v1/public/auth/send-email-code HTTP/1.1\r\nHost: edge\r\n"
MALFORMED = {"error": {"code": "invalid_request", "message": "malformed HTTP request"}}
SERVICES = ("AUTH", "ACCOUNT", "LOBBY", "RUNTIME", "MAIL", "NOTIFY", "GEO")


@pytest.fixture(scope="module")
def edge_port(tmp_path_factory) -> Iterator[int]:
    """A real edge process; no service runs behind it (these requests never need one)."""
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_HTTP_LISTEN_ADDR": f"127.0.0.1:{port}",
        "BACKEND_GRPC_PUSH_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
        **{f"GALAXY_{name}_GRPC_TARGET": "127.0.0.1:1" for name in SERVICES},
    }
    log_path = tmp_path_factory.mktemp("edge") / "edge.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "galaxy_edge"], env=env, stdout=log_file, stderr=log_file
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the edge did not start"
                time.sleep(0.1)
        yield port
    finally:
        process.kill()
        process.wait()


def exchange(port: int, data: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Send raw bytes; (status, headers, body, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        closed = False
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        sock.settimeout(5)
        try:
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
    return int(status_line.split()[1]), headers, body, closed


FRAMING_ERRORS = {
    "content-length COM1": SEND_CODE + b"Content-Length: COM1\r\n\r\n{}",
    "negative content-length": SEND_CODE + b"Content-Length: -1\r\n\r\n{}",
    "two content-lengths": SEND_CODE + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "space in a header name": b"GET /healthz HTTP/1.1\r\nHost: edge\r\nBad Header: 1\r\n\r\n",
    "NUL in a header value": b"GET /healthz HTTP/1.1\r\nHost: edge\r\nX-A: a\x00b\r\n\r\n",
    "control byte in a header value": b"GET /healthz HTTP/1.1\r\nHost: edge\r\nX-A: \x01\r\n\r\n",
    "not a request line": b"GARBAGE\r\n\r\n",
    "raw non-ASCII in the target": b"GET /api/\xff HTTP/1.1\r\nHost: edge\r\n\r\n",
    "bad chunk size": SEND_CODE
    + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("data", FRAMING_ERRORS.values(), ids=FRAMING_ERRORS.keys())
def test_an_unframeable_request_is_a_400_envelope_and_the_connection_closes(
    edge_port, data
) -> None:
    status, headers, body, closed = exchange(edge_port, data)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == MALFORMED
    assert closed


REACHING_THE_APP = {
    "percent-encoded non-UTF-8 in a path parameter": (
        b"GET /api/v1/user/lobby/games/%ff HTTP/1.1\r\nHost: edge\r\n"
        + f"X-User-ID: {USER_ID}\r\nConnection: close\r\n\r\n".encode(),
        "game_id: must be a valid UUID",
    ),
    "latin-1 bytes in X-User-ID": (
        b"GET /api/v1/user/lobby/games HTTP/1.1\r\nHost: edge\r\n"
        + b"X-User-ID: \xe9\xe9\r\nConnection: close\r\n\r\n",
        "X-User-ID: must be a valid UUID",
    ),
    "a declared body larger than the limit": (
        SEND_CODE
        + b"Content-Type: application/json\r\nContent-Length: 99999999999\r\n"
        + b"Connection: close\r\n\r\n{}",
        "body: must not exceed 1048576 bytes",
    ),
}


@pytest.mark.parametrize(
    ("data", "message"), REACHING_THE_APP.values(), ids=REACHING_THE_APP.keys()
)
def test_odd_bytes_the_parser_accepts_reach_the_app_and_answer_the_envelope(
    edge_port, data, message
) -> None:
    status, headers, body, _closed = exchange(edge_port, data)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": {"code": "invalid_request", "message": message}}


def test_the_connection_still_serves_after_a_request_the_app_refused(edge_port) -> None:
    """An app-level 400 is an ordinary answer: keep-alive goes on, the next request is served."""
    with socket.create_connection(("127.0.0.1", edge_port), timeout=10) as sock:
        sock.sendall(
            b"GET /api/v1/user/lobby/games HTTP/1.1\r\nHost: edge\r\nX-User-ID: nope\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 ") == 2
    assert b"HTTP/1.1 400 " in received and received.endswith(b'{"status":"ok"}')
