"""Lobby's tables, all in the `lobby` schema (docs/lobby.md)."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.db import sql_in
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import UUID

from galaxy_lobby.domain.vocabulary import (
    LISTED,
    ActorKind,
    ApplicationStatus,
    GameStatus,
    InviteStatus,
    MembershipStatus,
    RaceNameStatus,
    Visibility,
)

SCHEMA = "lobby"
metadata = sa.MetaData(schema=SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


#: The rows of the public list, spelled once for its partial index and its query. Literal values
#: (no bind parameters), so that a prepared statement's generic plan can still use the index.
PUBLIC_LISTED = f"visibility = 'public' AND {sql_in('status', LISTED)}"

# A game and its runtime projection (current_turn, runtime_status, engine_health come from
# runtime's status events). Only domain/machine.py assigns `status`.
games = sa.Table(
    "games",
    metadata,
    sa.Column("game_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("game_name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("visibility", sa.Text, nullable=False),
    sa.Column("owner_user_id", UUID(as_uuid=True)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("min_players", sa.Integer, nullable=False),
    sa.Column("max_players", sa.Integer, nullable=False),
    sa.Column("start_gap_hours", sa.Integer, nullable=False),
    sa.Column("start_gap_players", sa.Integer, nullable=False),
    _at("enrollment_ends_at", nullable=False),
    sa.Column("turn_schedule", sa.Text, nullable=False),
    sa.Column("target_engine_version", sa.Text, nullable=False),
    sa.Column("runtime_status", sa.Text, nullable=False),
    sa.Column("engine_health", sa.Text),
    sa.Column("current_turn", sa.Integer, nullable=False, server_default="0"),
    # occurred_at of the last runtime status event applied: older ones are not applied again.
    _at("runtime_event_at"),
    # When the game first had min_players active members (public games: start_gap_hours counts from it).
    _at("quorum_at"),
    _at("started_at"),
    _at("finished_at"),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    sa.CheckConstraint(sql_in("visibility", Visibility), name="games_visibility"),
    sa.CheckConstraint(sql_in("status", GameStatus), name="games_status"),
    sa.CheckConstraint("min_players >= 1 AND min_players <= max_players", name="games_players"),
    sa.CheckConstraint("start_gap_hours >= 0 AND start_gap_players >= 0", name="games_start_gap"),
    sa.CheckConstraint(
        "(visibility = 'public') = (owner_user_id IS NULL)", name="games_public_has_no_owner"
    ),
    # The public list: newest first, exactly the rows it reads.
    sa.Index(
        "games_public_listing", sa.text("created_at DESC"), sa.text("game_id DESC"),
        postgresql_where=sa.text(PUBLIC_LISTED),
    ),
    sa.Index("games_admin_listing", sa.text("created_at DESC"), sa.text("game_id DESC")),
    sa.Index("games_owner", "owner_user_id"),
    # The scheduler's poll: public games that may move on their own.
    sa.Index(
        "games_public_enrolling", "enrollment_ends_at",
        postgresql_where=sa.text("visibility = 'public' AND status IN ('enrollment_open', 'ready_to_start')"),
    ),
)

# How many games there are per visibility and status, as deltas: a statement that inserts, deletes
# or changes the status of games adds one row per (visibility, status) it changed, with the
# difference (the trigger lobby.count_games, migration 0003), in the same transaction; the lists
# sum the rows for their total. repository/games.compact_counts folds the deltas now and then.
game_counts = sa.Table(
    "game_counts",
    metadata,
    sa.Column("visibility", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# A counter that moves in every transaction that changes a public game (any column; inserted,
# updated or deleted), at its commit (deferred constraint triggers, migration 0004). The public
# list's replies are cached by it (servicer.PublicListReplies): an unchanged counter means an
# unchanged list. One row.
public_list_version = sa.Table(
    "public_list_version",
    metadata,
    sa.Column("single", sa.Boolean, primary_key=True, server_default=sa.text("true")),
    sa.Column("version", sa.BigInteger, nullable=False),
    # The transaction that moved it last (pg_current_xact_id): a transaction moves it once.
    sa.Column("last_xact", sa.BigInteger),
    sa.CheckConstraint("single", name="public_list_version_single"),
)

# A row per status change: who moved the game from which status to which, when and why.
game_transitions = sa.Table(
    "game_transitions",
    metadata,
    sa.Column("transition_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey("lobby.games.game_id"), nullable=False),
    # NULL: the game's creation.
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("actor_kind", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _at("at", nullable=False),
    sa.CheckConstraint(sql_in("actor_kind", ActorKind), name="game_transitions_actor_kind"),
    sa.Index("game_transitions_game", "game_id", "transition_id"),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("application_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey("lobby.games.game_id"), nullable=False),
    sa.Column("applicant_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("race_name", sa.Text, nullable=False),
    sa.Column("canonical_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _at("created_at", nullable=False),
    _at("decided_at"),
    sa.Column("decided_by", sa.Text),
    sa.CheckConstraint(sql_in("status", ApplicationStatus), name="applications_status"),
    # One pending application per user and game.
    sa.Index("applications_pending_once", "game_id", "applicant_user_id", unique=True,
             postgresql_where=sa.text("status = 'pending'")),
    sa.Index("applications_applicant", "applicant_user_id", "created_at"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("membership_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey("lobby.games.game_id"), nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("race_name", sa.Text, nullable=False),
    sa.Column("canonical_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _at("joined_at", nullable=False),
    _at("removed_at"),
    sa.Column("removed_by", sa.Text),
    sa.Column("reason", sa.Text),
    sa.CheckConstraint(sql_in("status", MembershipStatus), name="memberships_status"),
    sa.Index("memberships_active_once", "game_id", "user_id", unique=True,
             postgresql_where=sa.text("status = 'active'")),
    sa.Index("memberships_game", "game_id", "joined_at"),
    sa.Index("memberships_user", "user_id"),
)

invites = sa.Table(
    "invites",
    metadata,
    sa.Column("invite_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey("lobby.games.game_id"), nullable=False),
    sa.Column("inviter_user_id", UUID(as_uuid=True), nullable=False),
    # Exactly one of invited_user_id (a user-bound invite) and code (a code-based one).
    sa.Column("invited_user_id", UUID(as_uuid=True)),
    sa.Column("code", UUID(as_uuid=True), unique=True),
    sa.Column("race_name", sa.Text, nullable=False),
    sa.Column("canonical_key", sa.Text, nullable=False),
    # pending, redeemed, declined or revoked; a pending invite past expires_at reads as expired.
    sa.Column("status", sa.Text, nullable=False),
    _at("created_at", nullable=False),
    _at("expires_at", nullable=False),
    _at("decided_at"),
    sa.Column("redeemed_by_user_id", UUID(as_uuid=True)),
    sa.CheckConstraint(sql_in("status", [s for s in InviteStatus if s != InviteStatus.EXPIRED]),
                       name="invites_status"),
    sa.CheckConstraint("(invited_user_id IS NULL) <> (code IS NULL)", name="invites_user_or_code"),
    sa.Index("invites_invited", "invited_user_id"),
    sa.Index("invites_inviter_pending", "inviter_user_id", postgresql_where=sa.text("status = 'pending'")),
    sa.Index("invites_game", "game_id"),
)

# The race-name directory. Every row of one canonical_key belongs to one user (enforced under an
# advisory lock per key, domain/race_names.py). A reservation holds the name for one game.
race_names = sa.Table(
    "race_names",
    metadata,
    sa.Column("race_name_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("canonical_key", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("owner_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # reservation: the game it is held for.
    sa.Column("game_id", UUID(as_uuid=True)),
    # pending_registration / registered: the finished game the name was played in.
    sa.Column("source_game_id", UUID(as_uuid=True)),
    _at("reserved_at"),
    # pending_registration: registrable until then; afterwards the row is ignored.
    _at("expires_at"),
    _at("registered_at"),
    sa.CheckConstraint(sql_in("status", RaceNameStatus), name="race_names_status"),
    sa.CheckConstraint("(status = 'reservation') = (game_id IS NOT NULL)", name="race_names_reservation_game"),
    sa.Index("race_names_key", "canonical_key"),
    sa.Index("race_names_owner", "owner_user_id"),
    sa.Index("race_names_registered_once", "canonical_key", unique=True,
             postgresql_where=sa.text("status = 'registered'")),
    sa.Index("race_names_reserved_once", "canonical_key", "game_id", unique=True,
             postgresql_where=sa.text("status = 'reservation'")),
)
