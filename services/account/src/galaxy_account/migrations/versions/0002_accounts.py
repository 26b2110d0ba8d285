"""Accounts, entitlement history, sanctions and limits.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"

SCHEMA = "account"


def _history_columns() -> list[sa.Column]:
    return [
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.accounts.user_id"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("email_key", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text),
        sa.Column("preferred_language", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("declared_country", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("user_name", name="accounts_user_name_key"),
        schema=SCHEMA,
    )
    # The address is unique among live accounts only: a deleted account's
    # address may sign up again (docs/account.md).
    op.create_index(
        "accounts_email_key_live", "accounts", ["email_key"], unique=True, schema=SCHEMA,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("accounts_email_key", "accounts", ["email_key"], schema=SCHEMA)
    op.create_index(
        "accounts_created_at_live", "accounts", ["created_at", "user_id"], schema=SCHEMA,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "entitlements",
        sa.Column("entitlement_id", sa.BigInteger, sa.Identity(), primary_key=True),
        *_history_columns(),
        sa.Column("tier", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("admin_username", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("tier IN ('free', 'monthly', 'yearly', 'permanent')", name="entitlements_tier"),
        schema=SCHEMA,
    )
    op.create_index("entitlements_user_id", "entitlements", ["user_id", "entitlement_id"], schema=SCHEMA)

    op.create_table(
        "sanctions",
        sa.Column("sanction_id", sa.BigInteger, sa.Identity(), primary_key=True),
        *_history_columns(),
        sa.Column("sanction_code", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text),
        sa.Column("admin_username", sa.Text),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("sanction_code IN ('permanent_block')", name="sanctions_sanction_code"),
        schema=SCHEMA,
    )
    op.create_index("sanctions_user_id", "sanctions", ["user_id", "sanction_id"], schema=SCHEMA)

    op.create_table(
        "limits",
        sa.Column("limit_id", sa.BigInteger, sa.Identity(), primary_key=True),
        *_history_columns(),
        sa.Column("limit_code", sa.Text, nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text),
        sa.Column("admin_username", sa.Text),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("limits_user_id", "limits", ["user_id", "limit_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("limits", schema=SCHEMA)
    op.drop_table("sanctions", schema=SCHEMA)
    op.drop_table("entitlements", schema=SCHEMA)
    op.drop_table("accounts", schema=SCHEMA)
