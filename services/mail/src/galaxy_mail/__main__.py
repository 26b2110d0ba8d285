"""`python -m galaxy_mail`: run the mail service until SIGTERM."""

from galaxy_kit.service import run_service

from galaxy_mail.app import SERVICE


def main() -> None:
    run_service(SERVICE)


if __name__ == "__main__":
    main()
