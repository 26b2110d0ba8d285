"""Notify's tables, all in the `notify` schema (docs/notify.md, "Storage")."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA = "notify"
metadata = sa.MetaData(schema=SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


# One row per accepted intent (deduplicated on its intent id). `seq` is the push order: intake
# assigns it under one lock, so seq order is commit order and a stream tailing `seq > cursor`
# never skips a row that commits late. `status`: pending (no push consumer took it yet),
# delivered (sent on at least one push stream), dead (retries exhausted; see dead_letters).
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    _at("occurred_at", nullable=False),
    _at("created_at", nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    _at("next_attempt_at"),
    _at("delivered_at"),
    sa.Column("last_error", sa.Text),
    # The e-mail of a kind that deserves one, queued at mail (docs/notify.md, "E-mail").
    _at("emailed_at"),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="notifications_status"),
)
sa.Index("notifications_due", notifications.c.next_attempt_at,
         postgresql_where=sa.text("status = 'pending'"))
sa.Index("notifications_user", notifications.c.user_id)
sa.Index("notifications_listing", notifications.c.created_at.desc(), notifications.c.seq.desc())

# A notification whose push was given up (kept with the notification, which stays readable).
dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("dead_letter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("notification_id", UUID(as_uuid=True),
              sa.ForeignKey(f"{SCHEMA}.notifications.notification_id", ondelete="CASCADE"),
              nullable=False, unique=True),
    _at("archived_at", nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Index("dead_letters_listing", dead_letters.c.archived_at.desc(), dead_letters.c.dead_letter_id)

# An intent that did not fit its kind's schema (or was not an intent at all), kept as received.
malformed_intents = sa.Table(
    "malformed_intents",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _at("received_at", nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Index("malformed_intents_listing", malformed_intents.c.received_at.desc(), malformed_intents.c.id)

# One row per push consumer (a gateway): how far its stream got, and whether one is open now.
push_consumers = sa.Table(
    "push_consumers",
    metadata,
    sa.Column("consumer_id", sa.Text, primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    # Refreshed by the stream holding the consumer; a consumer is connected while it is recent.
    _at("connected_until"),
    _at("updated_at", nullable=False),
)
