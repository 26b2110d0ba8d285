"""game_counts: games per visibility and status as deltas, kept by a trigger, for the lists' totals.

Counting the listed games on every list request read every one of them (10,000 rows for
a page of 50). The trigger adds the difference a statement made to the counts in that
statement's transaction, so a total read in any snapshot is exact. Deltas are appended,
never updated in place: writers never wait on each other for a counter row (a single
counter row would serialise every creation and status move, and two transactions
moving games between the same statuses in opposite directions could deadlock on it).

The trigger is created before the backfill, in the same transaction: CREATE TRIGGER
locks out writers of games until commit, so no game is counted twice or missed.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

COUNT_GAMES = """
CREATE FUNCTION lobby.count_games() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO lobby.game_counts (visibility, status, n)
        SELECT visibility, status, count(*) FROM inserted GROUP BY visibility, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO lobby.game_counts (visibility, status, n)
        SELECT visibility, status, -count(*) FROM deleted GROUP BY visibility, status;
    ELSE
        INSERT INTO lobby.game_counts (visibility, status, n)
        SELECT visibility, status, sum(n) FROM (
            SELECT visibility, status, 1 AS n FROM inserted
            UNION ALL
            SELECT visibility, status, -1 AS n FROM deleted
        ) AS changed
        GROUP BY visibility, status
        HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "game_counts",
        sa.Column("visibility", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        schema="lobby",
    )
    op.execute(COUNT_GAMES)
    # Transition tables allow one event per trigger: three triggers, one function.
    op.execute("""
        CREATE TRIGGER games_count_insert AFTER INSERT ON lobby.games
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION lobby.count_games()
    """)
    op.execute("""
        CREATE TRIGGER games_count_update AFTER UPDATE ON lobby.games
        REFERENCING OLD TABLE AS deleted NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION lobby.count_games()
    """)
    op.execute("""
        CREATE TRIGGER games_count_delete AFTER DELETE ON lobby.games
        REFERENCING OLD TABLE AS deleted
        FOR EACH STATEMENT EXECUTE FUNCTION lobby.count_games()
    """)
    op.execute("""
        INSERT INTO lobby.game_counts (visibility, status, n)
        SELECT visibility, status, count(*) FROM lobby.games GROUP BY visibility, status
    """)


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER games_count_{event} ON lobby.games")
    op.execute("DROP FUNCTION lobby.count_games()")
    op.drop_table("game_counts", schema="lobby")
