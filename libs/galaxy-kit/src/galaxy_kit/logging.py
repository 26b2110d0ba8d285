"""Structured logging: one JSON object per line (or a console renderer for humans).

Never log secrets, login codes, passwords or message bodies: pass identifiers.

The project's own log calls go through structlog's filtering bound logger:
a call below the configured level is a no-op method (no event dict is built),
and a logger is assembled once and cached on first use. Lines are rendered
and written straight to stderr, without a trip through the standard library's
logging machinery (`structlog.get_logger(__name__)` gets the same). Libraries that log through `logging` (uvicorn, aiokafka,
the edge's modules) share the same renderer through a stdlib handler, so every
line of a process has the same shape: `event`, `level`, `logger`,
`timestamp`, `service`, plus the call's own keys.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from galaxy_kit.settings import LoggingSettings

LOGGER_KEY = "logger"


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's direct writer, remembering the name it was asked for (`get_logger(__name__)`)."""

    def __init__(self, file: Any, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: Any) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self._file, args[0] if args else None)


def _add_logger_name(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record = event_dict.get("_record")  # a line from the standard library's logging
    name = record.name if record is not None else getattr(logger, "name", None)
    if name:
        event_dict[LOGGER_KEY] = name
    return event_dict


def configure(settings: LoggingSettings, *, service: str) -> None:
    level = getattr(logging, settings.log_level.upper())
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        _add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=_NamedWriteLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka and asyncio are chatty at info about routine reconnects.
    logging.getLogger("aiokafka").setLevel(max(level, logging.WARNING))
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> Any:
    """A structlog logger that names `name` in every line (resolved and cached on first use)."""
    return structlog.get_logger(name)
