"""Where engines run: one interface (base.Driver), a local-process and a Docker-API implementation."""
