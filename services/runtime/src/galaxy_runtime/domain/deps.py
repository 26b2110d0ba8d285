"""What the domain functions need from the process: the database, the driver, the clients, the clock's owner."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from galaxy_kit.db import Reads
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from galaxy_runtime.clients import EngineClient, MemberDirectory
from galaxy_runtime.drivers.base import Driver
from galaxy_runtime.settings import RuntimeSettings


@dataclass
class Deps:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: Reads outside a unit of work: one statement each, no transaction (galaxy_kit.db.Reads).
    reads: Reads
    settings: RuntimeSettings
    driver: Driver
    engines: EngineClient
    members: MemberDirectory
    replica: str
    #: Set when there is work to do now (a new operation, an early turn); the workers wait on these.
    wake_operations: asyncio.Event = field(default_factory=asyncio.Event)
    wake_scheduler: asyncio.Event = field(default_factory=asyncio.Event)
