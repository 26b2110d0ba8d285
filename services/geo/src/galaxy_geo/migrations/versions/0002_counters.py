"""Per-user, per-country counters and the users they belong to.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("reported_country", sa.String(2), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
        schema="geo",
    )
    op.create_index(
        "users_forgotten_at",
        "users",
        ["forgotten_at"],
        schema="geo",
        postgresql_where=sa.text("forgotten_at IS NOT NULL"),
    )
    op.create_table(
        "country_counters",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count > 0", name="country_counters_count_positive"),
        sa.ForeignKeyConstraint(["user_id"], ["geo.users.user_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "country"),
        schema="geo",
    )


def downgrade() -> None:
    op.drop_table("country_counters", schema="geo")
    op.drop_index("users_forgotten_at", table_name="users", schema="geo")
    op.drop_table("users", schema="geo")
