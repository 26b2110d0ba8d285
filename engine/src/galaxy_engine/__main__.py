"""`python -m galaxy_engine --state-dir DIR --listen HOST:PORT`: serve one game.

Both options fall back to GALAXY_ENGINE_STATE_DIR and GALAXY_ENGINE_LISTEN.
SIGTERM or SIGINT stops promptly: uvicorn stops accepting, lets the request in
flight finish (a turn being run is written whole or not at all), and the
process exits 0 — also as PID 1 in a container.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from galaxy_engine.http import create_app

log = logging.getLogger("galaxy_engine")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds a stop waits for requests in flight before closing connections.
SHUTDOWN_GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    """uvicorn's server, without re-raising the stop signal after a graceful shutdown
    (so the exit status is 0, not death by SIGTERM)."""

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


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    # No docstring under python -OO (runtime starts engines with its own PYTHONOPTIMIZE).
    summary = __doc__.splitlines()[0] if __doc__ else None
    parser = argparse.ArgumentParser(prog="galaxy_engine", description=summary)
    parser.add_argument("--state-dir", type=Path, default=os.environ.get("GALAXY_ENGINE_STATE_DIR"),
                        help="directory of the game's state (env GALAXY_ENGINE_STATE_DIR)")
    parser.add_argument("--listen", type=parse_listen,
                        default=os.environ.get("GALAXY_ENGINE_LISTEN", "127.0.0.1:8000"),
                        help="HOST:PORT to serve on (env GALAXY_ENGINE_LISTEN; 127.0.0.1:8000)")
    args = parser.parse_args(argv)
    if args.state_dir is None:
        parser.error("--state-dir (or GALAXY_ENGINE_STATE_DIR) is required")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = args.listen
    config = uvicorn.Config(
        create_app(args.state_dir),
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    log.info("serving the game in %s on %s:%d", args.state_dir, host, port)
    _Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
