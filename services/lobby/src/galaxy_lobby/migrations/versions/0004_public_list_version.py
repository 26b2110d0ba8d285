"""public_list_version: a counter that every committed change of a public game moves, for the list's cache.

Lobby keeps its replies of the public list in memory and serves one again while this
counter is where it was when the reply was read (docs/lobby.md, "The public list's
cache"). So the counter must move in the same transaction as the change, for every
writer (the state machine, the consumers, the scheduler, a bulk insert, an operator's
UPDATE): row triggers on games, of any public game (before or after the change).

The triggers are constraint triggers deferred to commit: the counter row is locked only
from the moment the transaction commits until it has committed, after every lock the
transaction takes on games. Writers of public games queue for one row lock only for the
length of a commit, and a transaction holding the counter waits for nothing else, so
the counter cannot close a deadlock. A transaction moves it once however many games it
changed (`last_xact`): a bulk insert of 10,000 games is one update of the row, not
10,000 versions of it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

BUMP = """
CREATE FUNCTION lobby.bump_public_list_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lobby.public_list_version
    SET version = version + 1, last_xact = pg_current_xact_id()::text::bigint
    WHERE last_xact IS DISTINCT FROM pg_current_xact_id()::text::bigint;
    RETURN NULL;
END
$$
"""

#: (event, WHEN): a row of a public game inserted, changed (before or after), deleted.
ROW_TRIGGERS = (
    ("insert", "NEW.visibility = 'public'"),
    ("update", "(OLD.visibility = 'public' OR NEW.visibility = 'public') AND OLD.* IS DISTINCT FROM NEW.*"),
    ("delete", "OLD.visibility = 'public'"),
)


def upgrade() -> None:
    op.create_table(
        "public_list_version",
        sa.Column("single", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("last_xact", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("single", name="public_list_version_single"),
        sa.PrimaryKeyConstraint("single"),
        schema="lobby",
    )
    op.execute("INSERT INTO lobby.public_list_version (version) VALUES (0)")
    op.execute(BUMP)
    for event, when in ROW_TRIGGERS:
        op.execute(f"""
            CREATE CONSTRAINT TRIGGER games_public_list_{event} AFTER {event.upper()} ON lobby.games
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION lobby.bump_public_list_version()
        """)
    # TRUNCATE fires no row trigger (and a constraint trigger cannot be a statement trigger).
    op.execute("""
        CREATE TRIGGER games_public_list_truncate AFTER TRUNCATE ON lobby.games
        FOR EACH STATEMENT EXECUTE FUNCTION lobby.bump_public_list_version()
    """)


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER games_public_list_{event} ON lobby.games")
    op.execute("DROP FUNCTION lobby.bump_public_list_version()")
    op.drop_table("public_list_version", schema="lobby")
