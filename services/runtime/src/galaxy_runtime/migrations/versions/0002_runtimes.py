"""Engine versions, runtimes, their operations (a work queue) and turn ticks (one row per slot).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table('engine_versions',
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('major', sa.Integer(), nullable=False),
    sa.Column('minor', sa.Integer(), nullable=False),
    sa.Column('patch', sa.Integer(), nullable=False),
    sa.Column('image_ref', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version'),
    schema='runtime'
    )
    op.create_table('runtimes',
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('engine_version', sa.Text(), nullable=False),
    sa.Column('image_ref', sa.Text(), nullable=False),
    sa.Column('turn_schedule', sa.Text(), nullable=False),
    sa.Column('roster', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('seed', sa.Numeric(precision=20, scale=0), nullable=False),
    sa.Column('current_turn', sa.Integer(), server_default='0', nullable=False),
    sa.Column('engine_health', sa.Text(), server_default='unknown', nullable=False),
    sa.Column('engine_ref', sa.Text(), nullable=True),
    sa.Column('endpoint', sa.Text(), nullable=True),
    sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restart_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("engine_health IN ('healthy', 'unhealthy', 'unknown')", name='runtimes_engine_health'),
    sa.CheckConstraint("status IN ('starting', 'running', 'paused', 'start_failed', 'stopping', 'stopped', 'finished')", name='runtimes_status'),
    sa.ForeignKeyConstraint(['engine_version'], ['runtime.engine_versions.version'], ),
    sa.PrimaryKeyConstraint('game_id'),
    schema='runtime'
    )
    op.create_index('runtimes_due', 'runtimes', ['next_slot_at'], unique=False, schema='runtime', postgresql_where=sa.text("status = 'running'"))
    op.create_table('runtime_operations',
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('op', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=Text()), server_default='{}', nullable=False),
    sa.Column('requested_by', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("op IN ('start', 'stop', 'pause', 'resume', 'restart', 'patch', 'force_next_turn', 'recover')", name='runtime_operations_op'),
    sa.CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed')", name='runtime_operations_status'),
    sa.ForeignKeyConstraint(['game_id'], ['runtime.runtimes.game_id'], ),
    sa.PrimaryKeyConstraint('operation_id'),
    schema='runtime'
    )
    op.create_index('runtime_operations_game', 'runtime_operations', ['game_id', 'started_at'], unique=False, schema='runtime')
    op.create_index('runtime_operations_open', 'runtime_operations', ['run_after'], unique=False, schema='runtime', postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.create_table('turn_ticks',
    sa.Column('game_id', sa.UUID(), nullable=False),
    sa.Column('slot_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('turn', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('scheduled', 'catch_up', 'early', 'forced')", name='turn_ticks_kind'),
    sa.CheckConstraint("status IN ('claimed', 'done', 'retry', 'failed')", name='turn_ticks_status'),
    sa.ForeignKeyConstraint(['game_id'], ['runtime.runtimes.game_id'], ),
    sa.PrimaryKeyConstraint('game_id', 'slot_at'),
    schema='runtime'
    )
    op.create_index('turn_ticks_retry', 'turn_ticks', ['run_after'], unique=False, schema='runtime', postgresql_where=sa.text("status = 'retry'"))


def downgrade() -> None:
    for table in ("turn_ticks", "runtime_operations", "runtimes", "engine_versions"):
        op.drop_table(table, schema="runtime")
