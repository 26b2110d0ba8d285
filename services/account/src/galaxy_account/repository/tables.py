"""Account's tables, all in the `account` schema (docs/account.md)."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import UUID

SCHEMA = "account"
metadata = sa.MetaData(schema=SCHEMA)

#: Closed tier vocabulary of EntitlementSnapshot.plan_code / entitlements.tier.
TIERS = ("free", "monthly", "yearly", "permanent")
#: Closed sanction vocabulary (the contract's AdminUserSanctionRequest.sanction_code).
SANCTION_CODES = ("permanent_block",)

# One row per account ever created. A soft-deleted account keeps its row
# (deleted_at set); its address may then be used by a new account, so the
# address is unique among live accounts only. user_name is unique for ever.
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    # Fully lower-cased address: the identity key of ensure-by-email and lookups.
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
    sa.Index(
        "accounts_email_key_live", "email_key", unique=True, postgresql_where=sa.text("deleted_at IS NULL")
    ),
    sa.Index("accounts_email_key", "email_key"),
    sa.Index("accounts_created_at_live", "created_at", "user_id", postgresql_where=sa.text("deleted_at IS NULL")),
)

# Entitlement history: every grant is a row, never updated. The snapshot is
# computed at read time (domain/entitlements.py).
entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("entitlement_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("account.accounts.user_id"), nullable=False),
    sa.Column("tier", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("actor_type", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("reason_code", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True)),
    # The administrator whose credentials the edge checked (null: granted by account itself).
    sa.Column("admin_username", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("tier IN ('free', 'monthly', 'yearly', 'permanent')", name="entitlements_tier"),
    sa.Index("entitlements_user_id", "user_id", "entitlement_id"),
)

sanctions = sa.Table(
    "sanctions",
    metadata,
    sa.Column("sanction_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("account.accounts.user_id"), nullable=False),
    sa.Column("sanction_code", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("reason_code", sa.Text, nullable=False),
    sa.Column("actor_type", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("admin_username", sa.Text),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("sanction_code IN ('permanent_block')", name="sanctions_sanction_code"),
    sa.Index("sanctions_user_id", "user_id", "sanction_id"),
)

limits = sa.Table(
    "limits",
    metadata,
    sa.Column("limit_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("account.accounts.user_id"), nullable=False),
    sa.Column("limit_code", sa.Text, nullable=False),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("reason_code", sa.Text, nullable=False),
    sa.Column("actor_type", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("admin_username", sa.Text),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Index("limits_user_id", "user_id", "limit_id"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
