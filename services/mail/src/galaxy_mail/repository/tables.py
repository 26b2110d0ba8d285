"""Mail's tables, all in the `mail` schema (created by migrations 0001 to 0003)."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "mail"
metadata = sa.MetaData(schema=SCHEMA)

#: The closed set of MailDelivery.status (docs/mail.md has the transitions).
STATUSES = ("pending", "retrying", "sent", "dead_lettered")
#: Statuses a worker may claim (when due and not leased).
SENDABLE = ("pending", "retrying")
#: Final statuses: retention deletes such deliveries once they are old enough.
FINISHED = ("sent", "dead_lettered")
#: The closed set of MailAttempt.outcome; NULL while the attempt is in flight.
OUTCOMES = ("sent", "failed", "rejected", "abandoned")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("delivery_id", sa.Uuid, primary_key=True),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("template_id", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    # What the template needs (a login code!). Erased once the mail is sent; never returned by any RPC.
    sa.Column("variables", JSONB),
    sa.Column("status", sa.Text, nullable=False),
    # Every attempt ever made (= the number of attempt rows); MailDelivery.attempts.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Attempts in the current cycle; a resend starts a new cycle at 0.
    sa.Column("cycle_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    # The lease of the worker sending it now (all NULL when nobody is).
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("claimed_by", sa.Text),
    sa.Column("claim_attempt_id", sa.Uuid),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("rearmed_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(_in("status", STATUSES), name="deliveries_status"),
    sa.Index("deliveries_newest_first", sa.text("created_at DESC"), sa.text("delivery_id DESC")),
    sa.Index(
        "deliveries_due",
        "next_attempt_at",
        postgresql_where=sa.text(_in("status", SENDABLE)),
    ),
    sa.Index(
        "deliveries_finished",
        "updated_at",
        postgresql_where=sa.text(_in("status", FINISHED)),
    ),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("attempt_id", sa.Uuid, primary_key=True),
    sa.Column(
        "delivery_id",
        sa.Uuid,
        sa.ForeignKey(f"{SCHEMA}.deliveries.delivery_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt_no", sa.Integer, nullable=False),
    sa.Column("worker", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.Text),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("delivery_id", "attempt_no", name="attempts_delivery_attempt_no"),
    sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="attempts_outcome"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("dead_letter_id", sa.Uuid, primary_key=True),
    sa.Column(
        "delivery_id",
        sa.Uuid,
        sa.ForeignKey(f"{SCHEMA}.deliveries.delivery_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("reason", sa.Text, nullable=False),
    # Set when an operator resends the delivery (or a late attempt turns out to have sent it);
    # the dead-letter list shows only the unresolved ones.
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Index("dead_letters_open_newest_first", sa.text("archived_at DESC"),
             postgresql_where=sa.text("resolved_at IS NULL")),
    sa.Index("dead_letters_delivery", "delivery_id"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
