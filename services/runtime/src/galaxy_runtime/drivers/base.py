"""The driver interface: create, remove, list and check one engine per game (docs/runtime.md, "Drivers").

A driver knows nothing of turns, statuses or the database: runtime's domain decides, a driver does.
Every method may block on I/O and is awaited outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class EngineHandle:
    """A running engine: the driver's reference to it and the base URL of its HTTP contract."""

    game_id: str
    ref: str
    endpoint: str


@dataclass(frozen=True)
class FoundEngine:
    """An engine carrying runtime's label, as listed by the driver (adoption, orphan removal)."""

    game_id: str
    ref: str
    created_at: datetime


class DriverError(Exception):
    """The driver could not do what was asked; the message is safe to show an operator."""


class Driver(Protocol):
    name: str

    async def create(self, game_id: str, image_ref: str) -> EngineHandle:
        """Start an engine for the game on its state (created empty the first time, kept afterwards)."""

    async def remove(self, game_id: str) -> None:
        """Stop and remove the game's engine if there is one; its state stays. Idempotent."""

    async def alive(self, game_id: str, ref: str) -> bool:
        """Whether the engine `ref` of the game still runs."""

    async def list_engines(self) -> list[FoundEngine]:
        """Every engine carrying runtime's label."""

    async def close(self) -> None: ...
