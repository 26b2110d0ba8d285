"""Auth's migrations: they build exactly the tables the repository queries, and 0005 keeps counting
the code requests made before it (the rate limit's rows are filled from the stored challenges)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from galaxy_kit.db import create_engine
from galaxy_kit.migrations import alembic_config

from galaxy_auth.app import SERVICE
from galaxy_auth.repository.tables import SCHEMA, metadata


async def _upgrade(engine, revision: str) -> None:
    config = alembic_config(SERVICE.migrations, SCHEMA)

    def upgrade(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
        await connection.run_sync(upgrade)


async def test_0005_fills_the_rate_limit_rows_from_the_challenges_and_the_schema_matches_the_tables(
    fresh_database_dsn,
):
    engine = create_engine(fresh_database_dsn, pool_size=1)
    try:
        await _upgrade(engine, "0004")
        async with engine.begin() as connection:
            for email_key, minutes_ago in (("a@example.test", 1), ("a@example.test", 3), ("b@example.test", 2)):
                await connection.execute(sa.text(
                    "INSERT INTO auth.login_challenges (challenge_id, email, email_key, code_hash, locale,"
                    " created_at, expires_at) VALUES (:id, :key, :key, '\\x00', 'en',"
                    " now() - make_interval(mins => :m), now() + interval '5 minutes')"
                ), {"id": uuid.uuid4(), "key": email_key, "m": minutes_ago})
        await _upgrade(engine, "head")
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.text(
                "SELECT email_key, cardinality(requested_at) AS n,"
                " last_requested_at = requested_at[cardinality(requested_at)] AS last_is_newest"
                " FROM auth.login_code_requests ORDER BY email_key"
            ))).all()

            def compare(sync_connection):
                context = MigrationContext.configure(sync_connection, opts={
                    "include_schemas": True,
                    "include_name": lambda name, type_, _parent: type_ != "schema" or name == SCHEMA,
                    "compare_type": True,
                    "version_table_schema": SCHEMA,
                })
                return compare_metadata(context, metadata)

            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [("a@example.test", 2, True), ("b@example.test", 1, True)]
    assert differences == []
