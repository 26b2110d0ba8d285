"""The outbox and inbox tables, in a service's own Postgres schema.

A service declares them on its MetaData (whose `schema` is the service's
schema) so its repositories can use them:

    metadata = MetaData(schema="account")
    outbox = outbox_table(metadata)
    inbox = inbox_table(metadata)

and creates them in its first Alembic revision:

    def upgrade():   create_event_tables(op, "account")
    def downgrade(): drop_event_tables(op, "account")

The outbox `id` (bigserial) is the publish order; `event_id` is the envelope's
UUID (unique); `payload` is the serialized envelope, exactly the bytes the
relay publishes. A partial index on unpublished rows keeps the relay's claim
query cheap however many published rows accumulate.

The inbox's primary key (consumer_group, event_id) is the consumers'
deduplication: the row commits in the same transaction as the handler's
effect. Malformed records are recorded under a deterministic UUID derived
from (topic, partition, offset, value digest).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, TIMESTAMP, UUID
from sqlalchemy.sql.naming import conv

OUTBOX = "outbox"
INBOX = "inbox"


def _outbox_elements(name: str) -> list[Any]:
    return [
        sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),  # bigserial
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", BYTEA, nullable=False),
        sa.Column(
            "created_at", TIMESTAMP(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("published_at", TIMESTAMP(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name=conv(f"pk_{name}")),
        sa.UniqueConstraint("event_id", name=conv(f"uq_{name}_event_id")),
    ]


def _inbox_elements(name: str) -> list[Any]:
    return [
        sa.Column("consumer_group", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column(
            "processed_at", TIMESTAMP(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=conv(f"pk_{name}")),
    ]


def _unpublished_index_name(name: str) -> str:
    return f"ix_{name}_unpublished"


def outbox_table(metadata: sa.MetaData, name: str = OUTBOX) -> sa.Table:
    """The outbox table on `metadata` (in `metadata.schema`)."""
    table = sa.Table(name, metadata, *_outbox_elements(name))
    sa.Index(
        conv(_unpublished_index_name(name)),
        table.c.id,
        postgresql_where=table.c.published_at.is_(None),
    )
    return table


def inbox_table(metadata: sa.MetaData, name: str = INBOX) -> sa.Table:
    """The inbox table on `metadata` (in `metadata.schema`)."""
    return sa.Table(name, metadata, *_inbox_elements(name))


def create_event_tables(op: Any, schema: str, *, outbox: str = OUTBOX, inbox: str = INBOX) -> None:
    """For a service's first Alembic revision: create its outbox and inbox tables."""
    op.create_table(outbox, *_outbox_elements(outbox), schema=schema)
    op.create_index(
        _unpublished_index_name(outbox),
        outbox,
        ["id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(inbox, *_inbox_elements(inbox), schema=schema)


def drop_event_tables(op: Any, schema: str, *, outbox: str = OUTBOX, inbox: str = INBOX) -> None:
    """The reverse of `create_event_tables`."""
    op.drop_table(inbox, schema=schema)
    op.drop_index(_unpublished_index_name(outbox), table_name=outbox, schema=schema)
    op.drop_table(outbox, schema=schema)
