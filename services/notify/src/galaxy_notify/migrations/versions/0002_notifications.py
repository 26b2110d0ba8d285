"""Notifications, dead letters, malformed intents and push consumers (docs/notify.md).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"

SCHEMA = "notify"


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("notification_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        _at("occurred_at", nullable=False),
        _at("created_at", nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _at("next_attempt_at"),
        _at("delivered_at"),
        sa.Column("last_error", sa.Text),
        _at("emailed_at"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="notifications_status"),
        schema=SCHEMA,
    )
    op.create_index("notifications_due", "notifications", ["next_attempt_at"], schema=SCHEMA,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("notifications_user", "notifications", ["user_id"], schema=SCHEMA)
    op.create_index("notifications_listing", "notifications",
                    [sa.literal_column("created_at DESC"), sa.literal_column("seq DESC")], schema=SCHEMA)
    op.create_table(
        "dead_letters",
        sa.Column("dead_letter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("notification_id", UUID(as_uuid=True),
                  sa.ForeignKey(f"{SCHEMA}.notifications.notification_id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        _at("archived_at", nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("dead_letters_listing", "dead_letters",
                    [sa.literal_column("archived_at DESC"), "dead_letter_id"], schema=SCHEMA)
    op.create_table(
        "malformed_intents",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        _at("received_at", nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("malformed_intents_listing", "malformed_intents",
                    [sa.literal_column("received_at DESC"), "id"], schema=SCHEMA)
    op.create_table(
        "push_consumers",
        sa.Column("consumer_id", sa.Text, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        _at("connected_until"),
        _at("updated_at", nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("push_consumers", "malformed_intents", "dead_letters", "notifications"):
        op.drop_table(table, schema=SCHEMA)
