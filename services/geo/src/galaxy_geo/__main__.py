"""`python -m galaxy_geo`: run the geo service until SIGTERM."""

from galaxy_kit.service import run_service

from galaxy_geo.app import SERVICE


def main() -> None:
    run_service(SERVICE)


if __name__ == "__main__":
    main()
