"""Notify settings (docs/configuration.md)."""

from __future__ import annotations

from galaxy_kit.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
