"""`python -m galaxy_edge`: the REST listener and the gRPC push listener in one event loop.

SIGTERM or SIGINT stops gracefully: uvicorn stops accepting, lets in-flight
requests finish, then the app's lifespan stops the push listener (open streams
get the shutdown grace) and closes the downstream channels. The process then
exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

import galaxy_kit.entry  # noqa: F401  (first of all: see its docstring)
import uvicorn
from galaxy_kit.heap import freeze_startup_heap
from galaxy_kit.logging import configure

from galaxy_edge.app import create_app
from galaxy_edge.http import EnvelopeHttpToolsProtocol
from galaxy_edge.settings import EdgeSettings, split_host_port

log = logging.getLogger("galaxy_edge")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, without re-raising the stop signal after a graceful shutdown."""

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets=sockets)
        if self.started:
            freeze_startup_heap()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def build_server(settings: EdgeSettings) -> uvicorn.Server:
    """The uvicorn server of the edge app on `BACKEND_HTTP_LISTEN_ADDR`."""
    host, port = split_host_port(settings.http_listen_addr)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        # The edge reads X-Forwarded-For itself where it needs a client address
        # (galaxy_edge.identity.client_address); uvicorn's middleware would rewrite the
        # scope on every request for nothing.
        proxy_headers=False,
        http=EnvelopeHttpToolsProtocol,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return _Server(config)


def _loop_factory():  # type: ignore[no-untyped-def]
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> None:
    """Run the edge until SIGTERM/SIGINT."""
    settings = EdgeSettings()
    configure(settings, service="edge")
    server = build_server(settings)
    log.info(
        "edge starting: http %s, push %s", settings.http_listen_addr, settings.push_listen_addr
    )
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(server.serve())
    if not server.started:
        raise SystemExit(3)


if __name__ == "__main__":
    main()
