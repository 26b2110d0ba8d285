"""Auth's tables, all in the `auth` schema."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table

SCHEMA = "auth"
metadata = sa.MetaData(schema=SCHEMA)

admin_accounts = sa.Table(
    "admin_accounts",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("status IN ('active', 'disabled')", name="admin_accounts_status"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
