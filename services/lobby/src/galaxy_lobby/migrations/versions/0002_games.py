"""Games, their transitions, applications, memberships, invites and the race-name directory.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table('games',
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('game_name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('visibility', sa.Text(), nullable=False),
    sa.Column('owner_user_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('min_players', sa.Integer(), nullable=False),
    sa.Column('max_players', sa.Integer(), nullable=False),
    sa.Column('start_gap_hours', sa.Integer(), nullable=False),
    sa.Column('start_gap_players', sa.Integer(), nullable=False),
    sa.Column('enrollment_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('turn_schedule', sa.Text(), nullable=False),
    sa.Column('target_engine_version', sa.Text(), nullable=False),
    sa.Column('runtime_status', sa.Text(), nullable=False),
    sa.Column('engine_health', sa.Text(), nullable=True),
    sa.Column('current_turn', sa.Integer(), server_default='0', nullable=False),
    sa.Column('runtime_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quorum_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(visibility = 'public') = (owner_user_id IS NULL)", name='games_public_has_no_owner'),
    sa.CheckConstraint("status IN ('draft', 'enrollment_open', 'ready_to_start', 'starting', 'start_failed', 'running', 'paused', 'finished', 'cancelled')", name='games_status'),
    sa.CheckConstraint("visibility IN ('public', 'private')", name='games_visibility'),
    sa.CheckConstraint('min_players >= 1 AND min_players <= max_players', name='games_players'),
    sa.CheckConstraint('start_gap_hours >= 0 AND start_gap_players >= 0', name='games_start_gap'),
    sa.PrimaryKeyConstraint('game_id'),
    schema='lobby'
    )
    op.create_index('games_admin_listing', 'games', [sa.literal_column('created_at DESC'), sa.literal_column('game_id DESC')], unique=False, schema='lobby')
    op.create_index('games_owner', 'games', ['owner_user_id'], unique=False, schema='lobby')
    op.create_index('games_public_enrolling', 'games', ['enrollment_ends_at'], unique=False, schema='lobby', postgresql_where=sa.text("visibility = 'public' AND status IN ('enrollment_open', 'ready_to_start')"))
    op.create_index('games_public_listing', 'games', [sa.literal_column('created_at DESC'), sa.literal_column('game_id DESC')], unique=False, schema='lobby', postgresql_where=sa.text("visibility = 'public' AND status IN ('enrollment_open', 'ready_to_start', 'starting', 'start_failed', 'running', 'paused')"))
    op.create_table('race_names',
    sa.Column('race_name_id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('canonical_key', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('owner_user_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=True),
    sa.Column('source_game_id', sa.UUID(), nullable=True),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'reservation') = (game_id IS NOT NULL)", name='race_names_reservation_game'),
    sa.CheckConstraint("status IN ('reservation', 'pending_registration', 'registered')", name='race_names_status'),
    sa.PrimaryKeyConstraint('race_name_id'),
    schema='lobby'
    )
    op.create_index('race_names_key', 'race_names', ['canonical_key'], unique=False, schema='lobby')
    op.create_index('race_names_owner', 'race_names', ['owner_user_id'], unique=False, schema='lobby')
    op.create_index('race_names_registered_once', 'race_names', ['canonical_key'], unique=True, schema='lobby', postgresql_where=sa.text("status = 'registered'"))
    op.create_index('race_names_reserved_once', 'race_names', ['canonical_key', 'game_id'], unique=True, schema='lobby', postgresql_where=sa.text("status = 'reservation'"))
    op.create_table('applications',
    sa.Column('application_id', sa.UUID(), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('applicant_user_id', sa.UUID(), nullable=False),
    sa.Column('race_name', sa.Text(), nullable=False),
    sa.Column('canonical_key', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name='applications_status'),
    sa.ForeignKeyConstraint(['game_id'], ['lobby.games.game_id'], ),
    sa.PrimaryKeyConstraint('application_id'),
    schema='lobby'
    )
    op.create_index('applications_applicant', 'applications', ['applicant_user_id', 'created_at'], unique=False, schema='lobby')
    op.create_index('applications_pending_once', 'applications', ['game_id', 'applicant_user_id'], unique=True, schema='lobby', postgresql_where=sa.text("status = 'pending'"))
    op.create_table('game_transitions',
    sa.Column('transition_id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=False),
    sa.Column('actor_kind', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("actor_kind IN ('user', 'admin', 'system')", name='game_transitions_actor_kind'),
    sa.ForeignKeyConstraint(['game_id'], ['lobby.games.game_id'], ),
    sa.PrimaryKeyConstraint('transition_id'),
    schema='lobby'
    )
    op.create_index('game_transitions_game', 'game_transitions', ['game_id', 'transition_id'], unique=False, schema='lobby')
    op.create_table('invites',
    sa.Column('invite_id', sa.UUID(), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('inviter_user_id', sa.UUID(), nullable=False),
    sa.Column('invited_user_id', sa.UUID(), nullable=True),
    sa.Column('code', sa.UUID(), nullable=True),
    sa.Column('race_name', sa.Text(), nullable=False),
    sa.Column('canonical_key', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redeemed_by_user_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'redeemed', 'declined', 'revoked')", name='invites_status'),
    sa.CheckConstraint('(invited_user_id IS NULL) <> (code IS NULL)', name='invites_user_or_code'),
    sa.ForeignKeyConstraint(['game_id'], ['lobby.games.game_id'], ),
    sa.PrimaryKeyConstraint('invite_id'),
    sa.UniqueConstraint('code'),
    schema='lobby'
    )
    op.create_index('invites_game', 'invites', ['game_id'], unique=False, schema='lobby')
    op.create_index('invites_invited', 'invites', ['invited_user_id'], unique=False, schema='lobby')
    op.create_index('invites_inviter_pending', 'invites', ['inviter_user_id'], unique=False, schema='lobby', postgresql_where=sa.text("status = 'pending'"))
    op.create_table('memberships',
    sa.Column('membership_id', sa.UUID(), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('race_name', sa.Text(), nullable=False),
    sa.Column('canonical_key', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'removed', 'blocked')", name='memberships_status'),
    sa.ForeignKeyConstraint(['game_id'], ['lobby.games.game_id'], ),
    sa.PrimaryKeyConstraint('membership_id'),
    schema='lobby'
    )
    op.create_index('memberships_active_once', 'memberships', ['game_id', 'user_id'], unique=True, schema='lobby', postgresql_where=sa.text("status = 'active'"))
    op.create_index('memberships_game', 'memberships', ['game_id', 'joined_at'], unique=False, schema='lobby')
    op.create_index('memberships_user', 'memberships', ['user_id'], unique=False, schema='lobby')


def downgrade() -> None:
    op.drop_index('memberships_user', table_name='memberships', schema='lobby')
    op.drop_index('memberships_game', table_name='memberships', schema='lobby')
    op.drop_index('memberships_active_once', table_name='memberships', schema='lobby', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('memberships', schema='lobby')
    op.drop_index('invites_inviter_pending', table_name='invites', schema='lobby', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('invites_invited', table_name='invites', schema='lobby')
    op.drop_index('invites_game', table_name='invites', schema='lobby')
    op.drop_table('invites', schema='lobby')
    op.drop_index('game_transitions_game', table_name='game_transitions', schema='lobby')
    op.drop_table('game_transitions', schema='lobby')
    op.drop_index('applications_pending_once', table_name='applications', schema='lobby', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('applications_applicant', table_name='applications', schema='lobby')
    op.drop_table('applications', schema='lobby')
    op.drop_index('race_names_reserved_once', table_name='race_names', schema='lobby', postgresql_where=sa.text("status = 'reservation'"))
    op.drop_index('race_names_registered_once', table_name='race_names', schema='lobby', postgresql_where=sa.text("status = 'registered'"))
    op.drop_index('race_names_owner', table_name='race_names', schema='lobby')
    op.drop_index('race_names_key', table_name='race_names', schema='lobby')
    op.drop_table('race_names', schema='lobby')
    op.drop_index('games_public_listing', table_name='games', schema='lobby', postgresql_where=sa.text("visibility = 'public' AND status IN ('enrollment_open', 'ready_to_start', 'starting', 'start_failed', 'running', 'paused')"))
    op.drop_index('games_public_enrolling', table_name='games', schema='lobby', postgresql_where=sa.text("visibility = 'public' AND status IN ('enrollment_open', 'ready_to_start')"))
    op.drop_index('games_owner', table_name='games', schema='lobby')
    op.drop_index('games_admin_listing', table_name='games', schema='lobby')
    op.drop_table('games', schema='lobby')
