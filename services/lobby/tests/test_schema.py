"""The migrations build exactly the tables the repository queries (repository/tables.py)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from galaxy_kit.db import create_engine
from galaxy_lobby.repository.tables import SCHEMA, metadata


async def test_migrated_schema_matches_the_tables(lobby):
    engine = create_engine(lobby.database_url, pool_size=1)

    def compare(connection):
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True,
            "include_name": lambda name, type_, _parent: type_ != "schema" or name == SCHEMA,
            "compare_type": True,
            "version_table_schema": SCHEMA,
        })
        return compare_metadata(context, metadata)

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    assert differences == []
