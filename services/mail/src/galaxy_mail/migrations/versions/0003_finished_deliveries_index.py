"""Retention: an index on finished deliveries, so pruning them reads only the old ones;
login codes erased from the dead letters made before dead-lettering erased them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

SCHEMA = "mail"


def upgrade() -> None:
    op.create_index(
        "deliveries_finished",
        "deliveries",
        ["updated_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status IN ('sent', 'dead_lettered')"),
    )
    # From now on the dead-lettering transaction erases a template's secret variables
    # (galaxy_mail.domain.sending); older dead letters of the login code still hold theirs.
    op.execute(
        "UPDATE mail.deliveries SET variables = variables - 'code' "
        "WHERE status = 'dead_lettered' AND template_id = 'login_code'"
    )


def downgrade() -> None:
    op.drop_index("deliveries_finished", table_name="deliveries", schema=SCHEMA)
