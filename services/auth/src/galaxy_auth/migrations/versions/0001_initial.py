"""Administrator accounts and the event tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from galaxy_kit.events.schema import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "admin_accounts",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('active', 'disabled')", name="admin_accounts_status"),
        schema=SCHEMA,
    )
    create_event_tables(op, SCHEMA)


def downgrade() -> None:
    drop_event_tables(op, SCHEMA)
    op.drop_table("admin_accounts", schema=SCHEMA)
