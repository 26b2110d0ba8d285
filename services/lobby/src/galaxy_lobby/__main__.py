"""`python -m galaxy_lobby`: run the lobby service until SIGTERM."""

import galaxy_kit.entry  # noqa: F401  (first of all: see its docstring)
from galaxy_kit.service import run_service

from galaxy_lobby.app import SERVICE


def main() -> None:
    run_service(SERVICE)


if __name__ == "__main__":
    main()
