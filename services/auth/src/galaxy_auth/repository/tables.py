"""Auth's tables, all in the `auth` schema."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import ARRAY, UUID

SCHEMA = "auth"
metadata = sa.MetaData(schema=SCHEMA)

#: The closed set of DeviceSession.status (docs/auth.md).
SESSION_STATUSES = ("active", "revoked")
#: Who revoked a session (session_revocations.actor_kind).
ACTOR_KINDS = ("user_self", "admin", "system")

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

# One e-mailed login code. Only the code's HMAC is stored (docs/auth.md).
login_challenges = sa.Table(
    "login_challenges",
    metadata,
    sa.Column("challenge_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    # Lower-cased address: the key of the per-address rate limit.
    sa.Column("email_key", sa.Text, nullable=False),
    sa.Column("code_hash", sa.LargeBinary, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("consumed_at", sa.DateTime(timezone=True)),
    sa.Index("login_challenges_email_key_created_at", "email_key", "created_at"),
    sa.Index("login_challenges_expires_at", "expires_at"),
)

# An admin credential check that needed bcrypt and failed (or is still running), per throttling key.
admin_check_attempts = sa.Table(
    "admin_check_attempts",
    metadata,
    sa.Column("attempt_id", UUID(as_uuid=True), primary_key=True),
    # username or address
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("scope IN ('username', 'address')", name="admin_check_attempts_scope"),
    sa.Index("admin_check_attempts_scope_key_at", "scope", "key", "attempted_at"),
    sa.Index("admin_check_attempts_at", "attempted_at"),
)

# Recent code requests per lower-cased address: the rate limit's row (migration 0005).
login_code_requests = sa.Table(
    "login_code_requests",
    metadata,
    sa.Column("email_key", sa.Text, primary_key=True),
    sa.Column("requested_at", ARRAY(sa.DateTime(timezone=True)), nullable=False),
    sa.Column("last_requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("login_code_requests_last", "last_requested_at"),
)

# A login code still to be handed to mail (sealed, never in clear); deleted once mail accepted it.
login_code_mail = sa.Table(
    "login_code_mail",
    metadata,
    sa.Column(
        "challenge_id",
        UUID(as_uuid=True),
        sa.ForeignKey("auth.login_challenges.challenge_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("sealed_code", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("login_code_mail_next_attempt_at", "next_attempt_at"),
)

device_sessions = sa.Table(
    "device_sessions",
    metadata,
    sa.Column("device_session_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    # Standard base64 of the raw 32-byte Ed25519 public key.
    sa.Column("client_public_key", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    # The challenge that created the session: at most one session per challenge.
    sa.Column("challenge_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("status IN ('active', 'revoked')", name="device_sessions_status"),
    sa.CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="device_sessions_revoked_at"),
    sa.Index("device_sessions_user_id_status", "user_id", "status"),
)

session_revocations = sa.Table(
    "session_revocations",
    metadata,
    sa.Column("revocation_id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "device_session_id",
        UUID(as_uuid=True),
        sa.ForeignKey("auth.device_sessions.device_session_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("actor_kind", sa.Text, nullable=False),
    # user_self: the user id; admin: the administrator's username; system: what did it (e.g. an event id).
    sa.Column("actor_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("actor_kind IN ('user_self', 'admin', 'system')", name="session_revocations_actor_kind"),
    sa.Index("session_revocations_device_session_id", "device_session_id"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
