"""Drop the stand-in user record: account answers EnsureAccountByEmail now (docs/account.md).

Sessions created under stand-in ids name users account does not know; the
edge refuses them (ResolveUserIdentity: unknown) and their owners sign in again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"

SCHEMA = "auth"


def upgrade() -> None:
    op.drop_table("standin_users", schema=SCHEMA)


def downgrade() -> None:
    op.create_table(
        "standin_users",
        sa.Column("email_key", sa.Text, primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("user_id", name="standin_users_user_id_key"),
        schema=SCHEMA,
    )
