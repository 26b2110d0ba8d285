"""What lobby's operations work with: the database (reads and transactions) and the two downstreams."""

from __future__ import annotations

from dataclasses import dataclass

from galaxy_kit.db import Reads
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from galaxy_lobby.clients import AccountDirectory, RuntimeControl


@dataclass(frozen=True)
class Deps:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: Reads outside a unit of work: one statement each, no transaction (galaxy_kit.db.Reads).
    reads: Reads
    accounts: AccountDirectory
    runtime: RuntimeControl
