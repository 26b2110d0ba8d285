"""The lobby schema's event tables (outbox and inbox).

Revision ID: 0001
Revises:
"""

from alembic import op
from galaxy_kit.events.schema import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_tables(op, "lobby")


def downgrade() -> None:
    drop_event_tables(op, "lobby")
