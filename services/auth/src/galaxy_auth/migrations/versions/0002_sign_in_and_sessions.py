"""Login challenges, device sessions, session revocations and the stand-in user record.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "login_challenges",
        sa.Column("challenge_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("email_key", sa.Text, nullable=False),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("consumed_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index(
        "login_challenges_email_key_created_at", "login_challenges", ["email_key", "created_at"], schema=SCHEMA
    )
    op.create_index("login_challenges_expires_at", "login_challenges", ["expires_at"], schema=SCHEMA)

    op.create_table(
        "device_sessions",
        sa.Column("device_session_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("client_public_key", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("challenge_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_seen_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="device_sessions_status"),
        sa.CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="device_sessions_revoked_at"),
        sa.UniqueConstraint("challenge_id", name="device_sessions_challenge_id_key"),
        schema=SCHEMA,
    )
    op.create_index("device_sessions_user_id_status", "device_sessions", ["user_id", "status"], schema=SCHEMA)

    op.create_table(
        "session_revocations",
        sa.Column("revocation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "device_session_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.device_sessions.device_session_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("actor_kind", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "actor_kind IN ('user_self', 'admin', 'system')", name="session_revocations_actor_kind"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "session_revocations_device_session_id", "session_revocations", ["device_session_id"], schema=SCHEMA
    )

    # STAND-IN until the account service answers EnsureAccountByEmail (docs/auth.md).
    op.create_table(
        "standin_users",
        sa.Column("email_key", sa.Text, primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("user_id", name="standin_users_user_id_key"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("standin_users", schema=SCHEMA)
    op.drop_table("session_revocations", schema=SCHEMA)
    op.drop_table("device_sessions", schema=SCHEMA)
    op.drop_table("login_challenges", schema=SCHEMA)
