"""Per-address record of recent code requests: the rate limit in one statement.

`login_code_requests`: one row per lower-cased address with the times of its
recent code requests. send-email-code updates it with `INSERT … ON CONFLICT
DO UPDATE … WHERE <fewer than the limit inside the window>`, which locks the
row and re-reads its latest committed version, so the limit is exact across
replicas without an advisory lock and a separate count (docs/auth.md,
"Limits"). Filled here from the challenges still stored, so the requests made
before the upgrade keep counting.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "login_code_requests",
        sa.Column("email_key", sa.Text, primary_key=True),
        sa.Column("requested_at", ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("last_requested_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("login_code_requests_last", "login_code_requests", ["last_requested_at"], schema=SCHEMA)
    op.execute(
        "INSERT INTO auth.login_code_requests (email_key, requested_at, last_requested_at)"
        " SELECT email_key, array_agg(created_at ORDER BY created_at), max(created_at)"
        " FROM auth.login_challenges GROUP BY email_key"
    )


def downgrade() -> None:
    op.drop_table("login_code_requests", schema=SCHEMA)
