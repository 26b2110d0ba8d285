"""The public list served from lobby's cache of replies (servicer.PublicListReplies) is never stale.

Two lobby servers on one database, over real gRPC: each keeps its own replies, and a change of a
public game committed by either of them, by the scheduler, or by any other writer of the table shows
in the next list of both. The cache is keyed on lobby.public_list_version (migration 0004).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy.lobby.v1 import lobby_pb2_grpc
from galaxy_kit.db import create_engine
from galaxy_kit.proto import timestamp
from galaxy_kit.testing import running_service
from galaxy_lobby.app import SERVICE as LOBBY
from galaxy_lobby.domain.scheduler import tick
from lobby_helpers import ADMIN, admin_body, create_private, rows

LISTED_NOW = """
    SELECT game_id::text AS game_id, game_name, status, current_turn FROM lobby.games
    WHERE visibility = 'public' AND status IN
        ('enrollment_open', 'ready_to_start', 'starting', 'start_failed', 'running', 'paused')
    ORDER BY created_at DESC, game_id DESC
"""


async def public_game(stub, name: str, **overrides) -> pb.LobbyGameDetail:
    return await stub.AdminGamesCreate(pb.AdminGamesCreateRequest(admin_username=ADMIN,
                                                                  body=admin_body(game_name=name, **overrides)))


async def listed(stub, user: str, page: int = 1, page_size: int = 50) -> tuple[list[tuple], int]:
    """(game_id, game_name, status, current_turn) of a page, and the total."""
    reply = await stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=user, page=page, page_size=page_size))
    return [(g.game_id, g.game_name, g.status, g.current_turn) for g in reply.items], reply.total


async def in_database(lobby) -> list[tuple]:
    return [(r["game_id"], r["game_name"], r["status"], r["current_turn"]) for r in await rows(lobby, LISTED_NOW)]


async def version(lobby) -> int:
    [row] = await rows(lobby, "SELECT version FROM lobby.public_list_version")
    return row["version"]


class second_lobby:
    """Another lobby server on the same database (a replica), with its own cache; yields its stub."""

    def __init__(self, lobby) -> None:
        self._running = running_service(LOBBY, lobby.settings.model_copy(update={"grpc_listen_addr": ""}))

    async def __aenter__(self) -> lobby_pb2_grpc.LobbyServiceStub:
        return lobby_pb2_grpc.LobbyServiceStub((await self._running.__aenter__()).channel)

    async def __aexit__(self, *exc) -> None:
        await self._running.__aexit__(*exc)


async def test_every_committed_change_of_a_public_game_shows_in_the_next_list_of_both_replicas(
    lobby_with_runtime, deps,
):
    lobby = lobby_with_runtime
    user = await lobby.user()
    async with second_lobby(lobby) as other:
        first = [await public_game(lobby.stub, f"Public {i}") for i in range(3)]
        closing = await public_game(lobby.stub, "Closing Soon", enrollment_ends_at=timestamp(datetime.now(UTC) + timedelta(minutes=1)))
        replicas = (lobby.stub, other)

        async def both_show_the_database() -> list[tuple]:
            truth = await in_database(lobby)
            for stub in replicas:
                # Twice: the first may read the page, the second is served from the cache.
                for _ in range(2):
                    assert await listed(stub, user) == (truth, len(truth))
                    assert await listed(stub, user, page=2, page_size=2) == (truth[2:4], len(truth))
            return truth

        assert [g[0] for g in await both_show_the_database()] == [closing.game_id] + [g.game_id for g in first[::-1]]

        # Created through the other replica: the first one's cached pages show it at once.
        created = await public_game(other, "Newcomer")
        assert (await both_show_the_database())[0][0] == created.game_id

        # Altered by a writer that is not lobby at all (an operator's UPDATE).
        await rows(lobby, "UPDATE lobby.games SET game_name = 'Renamed', current_turn = 7 WHERE game_id = :g",
                   g=uuid.UUID(first[1].game_id))
        assert (first[1].game_id, "Renamed", "enrollment_open", 7) in await both_show_the_database()

        # Cancelled by lobby's own scheduler (enrollment ended without quorum): off both lists.
        moved = await tick(deps, now=datetime.now(UTC) + timedelta(minutes=2))
        assert [(m[1], m[2]) for m in moved.moved] == [("cancelled", "enrollment_ended_without_quorum")]
        truth = await both_show_the_database()
        assert closing.game_id not in [g[0] for g in truth] and len(truth) == 4

        # Moved in and out of the list by status.
        await rows(lobby, "UPDATE lobby.games SET status = 'finished' WHERE game_id = :g",
                   g=uuid.UUID(first[0].game_id))
        assert len(await both_show_the_database()) == 3
        await rows(lobby, "UPDATE lobby.games SET status = 'running' WHERE game_id = :g",
                   g=uuid.UUID(first[0].game_id))
        assert len(await both_show_the_database()) == 4

        # Deleted.
        for table in ("game_transitions", "games"):
            await rows(lobby, f"DELETE FROM lobby.{table} WHERE game_id = :g", g=uuid.UUID(created.game_id))
        assert created.game_id not in [g[0] for g in await both_show_the_database()]


async def test_a_change_shows_once_committed_and_not_before(lobby):
    user = await lobby.user()
    game = await public_game(lobby.stub, "Before")
    assert (await listed(lobby.stub, user))[0][0][1] == "Before"
    engine = create_engine(lobby.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(sa.text("UPDATE lobby.games SET game_name = 'After' WHERE game_id = :g"),
                                     {"g": uuid.UUID(game.game_id)})
            # Read (and cached) while the change is not committed: the list as it was.
            assert (await listed(lobby.stub, user))[0][0][1] == "Before"
            assert (await listed(lobby.stub, user))[0][0][1] == "Before"
            await transaction.commit()
        assert (await listed(lobby.stub, user))[0][0][1] == "After"

        # A change rolled back leaves the version, and so the cached reply, as they were.
        before = await version(lobby)
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(sa.text("UPDATE lobby.games SET game_name = 'Never' WHERE game_id = :g"),
                                     {"g": uuid.UUID(game.game_id)})
            await transaction.rollback()
        assert await version(lobby) == before
        assert (await listed(lobby.stub, user))[0][0][1] == "After"
    finally:
        await engine.dispose()


async def test_the_version_moves_once_per_transaction_that_changes_public_games_and_only_then(lobby):
    owner = await lobby.user()
    start = await version(lobby)
    # Private games are not in the public list: creating and changing one leaves the version.
    private = await create_private(lobby, owner)
    await lobby.stub.UserLobbyGamesOpenEnrollment(pb.UserLobbyGamesOpenEnrollmentRequest(user_id=owner,
                                                                                         game_id=private.game_id))
    assert await version(lobby) == start
    # One statement inserting 100 public games: one transaction, one step.
    await rows(lobby, """
        INSERT INTO lobby.games (game_id, game_name, visibility, status, min_players, max_players,
            start_gap_hours, start_gap_players, enrollment_ends_at, turn_schedule, target_engine_version,
            runtime_status, created_at, updated_at)
        SELECT gen_random_uuid(), 'Bulk ' || n, 'public', 'enrollment_open', 2, 4, 0, 0,
               now() + interval '3 days', '0 12 * * *', '2.0.1', 'not_started', now(), now()
        FROM generate_series(1, 100) AS n""")
    assert await version(lobby) == start + 1
    # An UPDATE that changes nothing moves nothing.
    await rows(lobby, "UPDATE lobby.games SET game_name = game_name WHERE visibility = 'public'")
    assert await version(lobby) == start + 1
    # TRUNCATE fires no row trigger; its own statement trigger moves the version.
    await rows(lobby, "TRUNCATE lobby.games CASCADE")
    assert await version(lobby) == start + 2


async def test_concurrent_changes_and_lists_on_two_replicas_end_on_the_database_state(lobby):
    """20 public games created at once through two replicas while both list: every creation commits
    (the version's row lock is taken at commit, after the games' own locks, so no deadlock), the
    version moved once per creation, and the next list of each replica is the database's."""
    user = await lobby.user()
    async with second_lobby(lobby) as other:
        start = await version(lobby)
        stubs = (lobby.stub, other)

        async def keep_listing(stub) -> None:
            for _ in range(15):
                await listed(stub, user, page_size=10)

        await asyncio.gather(
            *(public_game(stubs[i % 2], f"Rush {i}") for i in range(20)),
            *(keep_listing(stub) for stub in stubs for _ in range(3)),
        )
        assert await version(lobby) == start + 20
        truth = await in_database(lobby)
        assert len(truth) == 20
        for stub in stubs:
            assert await listed(stub, user, page_size=10) == (truth[:10], 20)
            assert await listed(stub, user, page=2, page_size=10) == (truth[10:], 20)
