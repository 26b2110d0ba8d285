"""`python -m galaxy_devstack up`: the whole suite on embedded defaults until Ctrl-C / SIGTERM.

Exit code 0 after a requested stop, 1 when something failed to start or died
while running (the culprit and the tail of its log are printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from galaxy_devstack.stack import DEFAULT_STARTUP_TIMEOUT_SECONDS, Stack, StackError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m galaxy_devstack",
        description="Run the Galaxy backend on one machine (see docs/devstack.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything and run until Ctrl-C or SIGTERM")
    up.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the cluster, mail, logs and admin password live (default $GALAXY_STATE_DIR or .galaxy)",
    )
    up.add_argument(
        "--free-ports",
        action="store_true",
        help="pick unused ports instead of the configured ones (printed at start)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_STARTUP_TIMEOUT_SECONDS,
        help="seconds the whole start may take (default %(default).0f)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "up":
        try:
            stack = Stack.from_environ(args.state_dir, free_ports=args.free_ports, startup_timeout=args.timeout)
        except StackError as exc:
            print(f"galaxy devstack: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        raise SystemExit(stack.run_until_signal())


if __name__ == "__main__":
    main()
