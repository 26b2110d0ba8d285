"""Geo's tables, all in the `geo` schema."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.events.schema import inbox_table, outbox_table

SCHEMA = "geo"
metadata = sa.MetaData(schema=SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

#: One row per user geo has heard of. The row is the lock that serialises a user's counting with
#: the user's deletion, and it remembers what geo last told account and whether the user is gone.
users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    # The country geo last reported to account's SyncDeclaredCountry (and when account took it).
    sa.Column("reported_country", sa.String(2)),
    sa.Column("reported_at", sa.DateTime(timezone=True)),
    # Set when the account was deleted: the counters are gone and no sighting counts any more.
    sa.Column("forgotten_at", sa.DateTime(timezone=True)),
)

country_counters = sa.Table(
    "country_counters",
    metadata,
    sa.Column(
        "user_id", sa.Uuid, sa.ForeignKey(users.c.user_id, ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("count > 0", name="country_counters_count_positive"),
)
