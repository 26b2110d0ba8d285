"""`python -m galaxy_geo`: run the geo service until SIGTERM."""

import galaxy_kit.entry  # noqa: F401  (first of all: see its docstring)
from galaxy_kit.service import run_service

from galaxy_geo.app import SERVICE


def main() -> None:
    run_service(SERVICE)


if __name__ == "__main__":
    main()
