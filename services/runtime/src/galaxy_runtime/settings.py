"""Runtime settings (docs/configuration.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings


class RuntimeSettings(ServiceSettings):
    service_name: str = "runtime"
