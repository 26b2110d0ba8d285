"""The delivery outbox: deliveries, their attempts, dead letters.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"

SCHEMA = "mail"
STATUSES = "status IN ('pending', 'retrying', 'sent', 'dead_lettered')"
OUTCOMES = "outcome IS NULL OR outcome IN ('sent', 'failed', 'rejected', 'abandoned')"


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("template_id", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("variables", JSONB),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cycle_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claim_attempt_id", sa.Uuid),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("rearmed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("idempotency_key", name="deliveries_idempotency_key_key"),
        sa.CheckConstraint(STATUSES, name="deliveries_status"),
        schema=SCHEMA,
    )
    op.create_index(
        "deliveries_newest_first",
        "deliveries",
        [sa.text("created_at DESC"), sa.text("delivery_id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
    op.create_table(
        "attempts",
        sa.Column("attempt_id", sa.Uuid, primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey(f"{SCHEMA}.deliveries.delivery_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt_no", sa.Integer, nullable=False),
        sa.Column("worker", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.Text),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("delivery_id", "attempt_no", name="attempts_delivery_attempt_no"),
        sa.CheckConstraint(OUTCOMES, name="attempts_outcome"),
        schema=SCHEMA,
    )
    op.create_table(
        "dead_letters",
        sa.Column("dead_letter_id", sa.Uuid, primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey(f"{SCHEMA}.deliveries.delivery_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index(
        "dead_letters_open_newest_first",
        "dead_letters",
        [sa.text("archived_at DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index("dead_letters_delivery", "dead_letters", ["delivery_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("dead_letters", schema=SCHEMA)
    op.drop_table("attempts", schema=SCHEMA)
    op.drop_table("deliveries", schema=SCHEMA)
