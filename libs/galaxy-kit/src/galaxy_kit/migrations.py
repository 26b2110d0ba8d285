"""Alembic migrations, one Postgres schema per service, applied at start-up.

A service keeps its revisions in `galaxy_<name>/migrations/versions/` and a
three-line `env.py` that calls `run_env(metadata)`. `upgrade_to_head()` runs
at start-up under a transaction-scoped advisory lock, so several replicas
starting at once migrate one after the other, never concurrently.

For a developer's `alembic revision --autogenerate`, each service ships an
`alembic.ini`; without a connection handed in, `run_env` connects to
GALAXY_DATABASE_URL itself.

Alembic is imported only where it is used. A service process started with
`python -m galaxy_<name>` migrates in a short-lived child process
(`upgrade_in_child`), so the 13 MB or so that Alembic and its templates
bring never stay resident in a process that only serves requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from galaxy_kit.settings import DEFAULT_DATABASE_URL

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"


def _lock_key(schema: str) -> int:
    # A stable 32-bit key per schema; advisory locks are database-wide.
    return zlib.crc32(f"galaxy-migrations:{schema}".encode())


#: The child process reads the DSN from here (never from argv, which `ps` shows).
CHILD_DSN_ENV = "GALAXY_MIGRATIONS_DATABASE_URL"
LOG_TAIL_CHARACTERS = 4000


def alembic_config(script_location: Path, schema: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["schema"] = schema
    return config


async def upgrade_to_head(engine: AsyncEngine, *, script_location: Path, schema: str) -> None:
    """Create the service's schema if needed and apply every pending revision."""
    from alembic import command

    config = alembic_config(script_location, schema)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(schema)})
        await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await connection.run_sync(_upgrade)


async def upgrade_in_child(dsn: str, *, script_location: Path, schema: str) -> None:
    """`upgrade_to_head` in a child process (`python -m galaxy_kit.migrations`); raises if it fails."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "galaxy_kit.migrations", "--schema", schema, "--script-location", str(script_location),
        env={**os.environ, CHILD_DSN_ENV: dsn},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await child.communicate()
    if child.returncode != 0:
        tail = output.decode("utf-8", errors="replace")[-LOG_TAIL_CHARACTERS:]
        raise RuntimeError(f"migrations of schema {schema} failed (exit {child.returncode}):\n{tail}")


def main() -> None:
    """The child of `upgrade_in_child`."""
    parser = argparse.ArgumentParser(description="apply a service's migrations")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--script-location", type=Path, required=True)
    args = parser.parse_args()
    from galaxy_kit.db import create_engine

    async def _run() -> None:
        engine = create_engine(os.environ[CHILD_DSN_ENV], application_name=f"galaxy-{args.schema}-migrations",
                               pool_size=1, max_overflow=0)
        try:
            await upgrade_to_head(engine, script_location=args.script_location, schema=args.schema)
        finally:
            await engine.dispose()

    asyncio.run(_run())


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    schema = metadata.schema
    if schema is None:
        raise RuntimeError("a service's MetaData must name its schema")
    configure_args = {
        "target_metadata": metadata,
        "version_table_schema": schema,
        "version_table": VERSION_TABLE,
        "include_schemas": True,
        "include_name": lambda name, type_, _parent: type_ != "schema" or name == schema,
    }
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode():
        context.configure(url=os.environ.get("GALAXY_DATABASE_URL", DEFAULT_DATABASE_URL), **configure_args)
        with context.begin_transaction():
            context.run_migrations()
        return
    if connection is not None:
        context.configure(connection=connection, **configure_args)
        context.run_migrations()
        return
    # A developer's alembic CLI: we only ship the asyncpg driver, so run through an async engine.
    from galaxy_kit.db import create_engine as create_async

    async def _run() -> None:
        engine = create_async(os.environ.get("GALAXY_DATABASE_URL", DEFAULT_DATABASE_URL))
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

            def _migrate(sync_conn: Connection) -> None:
                context.configure(connection=sync_conn, **configure_args)
                context.run_migrations()

            await conn.run_sync(_migrate)
        await engine.dispose()

    asyncio.run(_run())


__all__ = ["alembic_config", "run_env", "upgrade_in_child", "upgrade_to_head"]


if __name__ == "__main__":
    main()
