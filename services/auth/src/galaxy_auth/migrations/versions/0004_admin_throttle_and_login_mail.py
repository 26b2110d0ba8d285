"""Admin check attempts (throttling) and the login-mail queue.

`admin_check_attempts`: one row per admin credential check that needed bcrypt
and did not succeed (or is still running), per key — the username, and the
client address when the edge sent one. Counted over a sliding window to
throttle guessing across replicas; the janitor deletes rows past the window.

`login_code_mail`: a login code waiting to be handed to mail, written in the
transaction that creates its challenge. The code is sealed (SecretBox under a
key derived from the pepper), never stored in clear; the row is deleted once
mail accepted the delivery.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "admin_check_attempts",
        sa.Column("attempt_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("scope IN ('username', 'address')", name="admin_check_attempts_scope"),
        schema=SCHEMA,
    )
    op.create_index(
        "admin_check_attempts_scope_key_at", "admin_check_attempts", ["scope", "key", "attempted_at"],
        schema=SCHEMA,
    )
    op.create_index("admin_check_attempts_at", "admin_check_attempts", ["attempted_at"], schema=SCHEMA)

    op.create_table(
        "login_code_mail",
        sa.Column(
            "challenge_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.login_challenges.challenge_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("sealed_code", sa.LargeBinary, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("login_code_mail_next_attempt_at", "login_code_mail", ["next_attempt_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("login_code_mail", schema=SCHEMA)
    op.drop_table("admin_check_attempts", schema=SCHEMA)
