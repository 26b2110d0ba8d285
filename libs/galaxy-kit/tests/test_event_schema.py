"""The outbox/inbox tables: the Alembic helpers create exactly what the table factories describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from galaxy_kit.db import create_engine
from galaxy_kit.events import create_event_tables, drop_event_tables, inbox_table, outbox_table

SCHEMA = "svc"


async def test_migration_helpers_match_table_factories(fresh_database_dsn):
    engine = create_engine(fresh_database_dsn)
    metadata = sa.MetaData(schema=SCHEMA)
    outbox_table(metadata)
    inbox_table(metadata)

    def upgrade_and_compare(connection):
        op = Operations(MigrationContext.configure(connection))
        create_event_tables(op, SCHEMA)
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _p: type_ != "schema" or name == SCHEMA,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return compare_metadata(context, metadata)

    def inspect(connection):
        insp = sa.inspect(connection)
        indexes = {ix["name"]: ix for ix in insp.get_indexes("outbox", schema=SCHEMA)}
        return (
            sorted(insp.get_table_names(schema=SCHEMA)),
            insp.get_pk_constraint("inbox", schema=SCHEMA)["constrained_columns"],
            indexes,
        )

    def downgrade(connection):
        drop_event_tables(Operations(MigrationContext.configure(connection)), SCHEMA)
        return sorted(sa.inspect(connection).get_table_names(schema=SCHEMA))

    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
            diffs = await conn.run_sync(upgrade_and_compare)
            tables, inbox_pk, indexes = await conn.run_sync(inspect)
            id_default = (
                await conn.execute(
                    sa.text(
                        "SELECT column_default FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = 'outbox' AND column_name = 'id'"
                    ),
                    {"s": SCHEMA},
                )
            ).scalar_one()
        assert diffs == []
        assert tables == ["inbox", "outbox"]
        assert inbox_pk == ["consumer_group", "event_id"]
        assert "published_at IS NULL" in indexes["ix_outbox_unpublished"]["dialect_options"]["postgresql_where"]
        assert id_default.startswith("nextval(")  # bigserial: the publish order

        async with engine.begin() as conn:
            assert await conn.run_sync(downgrade) == []
    finally:
        await engine.dispose()
