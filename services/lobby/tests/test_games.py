"""Games over real gRPC: creation and validation, the state machine (every move from every status),
PATCH rules, lists, and a start that runtime (not built yet) refuses."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy_kit.proto import timestamp
from galaxy_lobby.domain.machine import TRANSITIONS
from galaxy_lobby.domain.vocabulary import GameStatus
from lobby_helpers import (
    ADMIN,
    add_member,
    admin_body,
    create_body,
    create_private,
    error_of,
    game_row,
    later,
    rows,
    set_status,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
FORBIDDEN = grpc.StatusCode.PERMISSION_DENIED


async def test_a_private_game_is_created_in_draft_and_a_public_one_open(lobby):
    owner = await lobby.user()
    game = await create_private(lobby, owner, description="  three arms of the galaxy ")
    assert (game.status, game.visibility, game.game_type, game.owner_user_id) == ("draft", "private", "private", owner)
    assert (game.min_players, game.max_players, game.turn_schedule, game.target_engine_version) == \
        (2, 4, "0 */6 * * *", "1.4.0")
    assert game.description == "three arms of the galaxy" and game.runtime_status == "not_started"
    assert game.current_turn == 0 and not game.HasField("started_at")
    public = await lobby.stub.AdminGamesCreate(pb.AdminGamesCreateRequest(admin_username=ADMIN, body=admin_body()))
    assert (public.status, public.visibility, public.HasField("owner_user_id")) == ("enrollment_open", "public", False)
    history = await rows(lobby, "SELECT game_id::text, from_status, to_status, actor_kind, actor_id, reason "
                                "FROM lobby.game_transitions ORDER BY transition_id")
    assert history == [
        {"game_id": game.game_id, "from_status": None, "to_status": "draft", "actor_kind": "user",
         "actor_id": owner, "reason": "created"},
        {"game_id": public.game_id, "from_status": None, "to_status": "enrollment_open", "actor_kind": "admin",
         "actor_id": ADMIN, "reason": "created"},
    ]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"min_players": 5, "max_players": 4}, "min_players must not exceed max_players"),
    ({"max_players": 101}, "max_players must be 1-100"),
    ({"turn_schedule": "* * * * * *"}, "five-field cron"),
    ({"turn_schedule": "every day"}, "five-field cron"),
    ({"turn_schedule": "61 * * * *"}, "five-field cron"),
    ({"target_engine_version": "1.4"}, "semantic version"),
    ({"target_engine_version": "v1.4.0"}, "semantic version"),
    ({"enrollment_ends_at": timestamp(later(seconds=-5))}, "enrollment_ends_at must be in the future"),
    ({"game_name": "   "}, "game_name must be 1-64"),
    ({"game_name": "x" * 65}, "game_name must be 1-64"),
    ({"visibility": "public"}, "visibility must be private"),
    ({"start_gap_hours": 100_000}, "start_gap_hours"),
])
async def test_bad_input_is_refused_and_creates_nothing(lobby, overrides, message):
    owner = await lobby.user()
    error = await error_of(create_private(lobby, owner, **overrides))
    assert error.code() == INVALID and message in error.details()
    assert await rows(lobby, "SELECT 1 FROM lobby.games") == []


async def test_a_missing_enrollment_end_is_refused(lobby):
    owner = await lobby.user()
    body = create_body()
    body.ClearField("enrollment_ends_at")
    error = await error_of(lobby.stub.UserLobbyGamesCreate(pb.UserLobbyGamesCreateRequest(user_id=owner, body=body)))
    assert error.code() == INVALID and "enrollment_ends_at is required" in error.details()


#: Each owner/admin operation: (rpc, request type, target status, source statuses it accepts).
S = GameStatus
OPERATIONS = [
    ("UserLobbyGamesOpenEnrollment", pb.UserLobbyGamesOpenEnrollmentRequest, S.ENROLLMENT_OPEN, {S.DRAFT}),
    ("UserLobbyGamesReadyToStart", pb.UserLobbyGamesReadyToStartRequest, S.READY_TO_START, {S.ENROLLMENT_OPEN}),
    ("UserLobbyGamesStart", pb.UserLobbyGamesStartRequest, S.STARTING, {S.READY_TO_START}),
    ("UserLobbyGamesRetryStart", pb.UserLobbyGamesRetryStartRequest, S.STARTING, {S.START_FAILED}),
    ("UserLobbyGamesPause", pb.UserLobbyGamesPauseRequest, S.PAUSED, {S.RUNNING}),
    ("UserLobbyGamesResume", pb.UserLobbyGamesResumeRequest, S.RUNNING, {S.PAUSED}),
    ("UserLobbyGamesCancel", pb.UserLobbyGamesCancelRequest, S.CANCELLED,
     {s for s, targets in TRANSITIONS.items() if S.CANCELLED in targets}),
    ("AdminGamesForceStart", pb.AdminGamesForceStartRequest, S.STARTING,
     {S.ENROLLMENT_OPEN, S.READY_TO_START, S.START_FAILED}),
    ("AdminGamesForceStop", pb.AdminGamesForceStopRequest, S.FINISHED, {S.RUNNING, S.PAUSED}),
]


def _request(request_type, owner: str, game_id: str):
    if request_type.DESCRIPTOR.fields_by_name.get("admin_username"):
        return request_type(admin_username=ADMIN, game_id=game_id)
    return request_type(user_id=owner, game_id=game_id)


async def test_every_illegal_move_is_a_conflict_naming_both_states_and_changes_nothing(lobby_with_runtime):
    lobby = lobby_with_runtime
    owner = await lobby.user()
    game = await create_private(lobby, owner, min_players=1)
    await add_member(lobby, game.game_id, owner, "Vega")
    for rpc, request_type, target, sources in OPERATIONS:
        for status in GameStatus:
            if status in sources:
                continue
            await set_status(lobby, game.game_id, status)
            before = await game_row(lobby, game.game_id)
            history = await rows(lobby, "SELECT count(*) AS n FROM lobby.game_transitions")
            outbox = await rows(lobby, "SELECT count(*) AS n FROM lobby.outbox")
            error = await error_of(getattr(lobby.stub, rpc)(_request(request_type, owner, game.game_id)))
            assert error.code() == CONFLICT, (rpc, status, error.details())
            assert error.details() == f"the game cannot move from {status} to {target}", (rpc, status)
            assert await game_row(lobby, game.game_id) == before
            assert await rows(lobby, "SELECT count(*) AS n FROM lobby.game_transitions") == history
            assert await rows(lobby, "SELECT count(*) AS n FROM lobby.outbox") == outbox
    assert lobby.runtime.calls == []  # nothing illegal ever reached runtime


async def test_every_legal_move_lands_and_is_recorded(lobby_with_runtime):
    lobby = lobby_with_runtime
    owner = await lobby.user()
    game = await create_private(lobby, owner, min_players=1)
    await add_member(lobby, game.game_id, owner, "Vega")
    for rpc, request_type, target, sources in OPERATIONS:
        for status in sorted(sources):
            await set_status(lobby, game.game_id, status)
            changed = await getattr(lobby.stub, rpc)(_request(request_type, owner, game.game_id))
            assert changed.status == target, (rpc, status)
            [last] = await rows(lobby, "SELECT from_status, to_status FROM lobby.game_transitions "
                                       "ORDER BY transition_id DESC LIMIT 1")
            assert (last["from_status"], last["to_status"]) == (status, target)


async def test_only_the_owner_moves_a_game(lobby):
    owner, other = await lobby.user(), await lobby.user()
    game = await create_private(lobby, owner)
    for rpc, request_type, _target, _sources in OPERATIONS:
        if rpc.startswith("Admin"):
            continue
        error = await error_of(getattr(lobby.stub, rpc)(request_type(user_id=other, game_id=game.game_id)))
        assert error.code() == FORBIDDEN, rpc
    missing = await error_of(lobby.stub.UserLobbyGamesOpenEnrollment(
        pb.UserLobbyGamesOpenEnrollmentRequest(user_id=owner, game_id=str(uuid.uuid4()))))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert (await game_row(lobby, game.game_id))["status"] == "draft"


async def test_ready_to_start_needs_min_players_active_members(lobby):
    owner, second = await lobby.user(), await lobby.user()
    game = await create_private(lobby, owner)
    await lobby.stub.UserLobbyGamesOpenEnrollment(pb.UserLobbyGamesOpenEnrollmentRequest(user_id=owner,
                                                                                         game_id=game.game_id))
    await add_member(lobby, game.game_id, owner, "Vega")
    error = await error_of(lobby.stub.UserLobbyGamesReadyToStart(
        pb.UserLobbyGamesReadyToStartRequest(user_id=owner, game_id=game.game_id)))
    assert error.code() == CONFLICT and "needs 2 active members and has 1" in error.details()
    await add_member(lobby, game.game_id, second, "Altair")
    ready = await lobby.stub.UserLobbyGamesReadyToStart(
        pb.UserLobbyGamesReadyToStartRequest(user_id=owner, game_id=game.game_id))
    assert ready.status == "ready_to_start"


async def test_a_start_refused_by_runtime_ends_in_start_failed_with_the_reason(lobby):
    owner, second = await lobby.user(), await lobby.user()
    game = await create_private(lobby, owner)
    await add_member(lobby, game.game_id, owner, "Vega")
    await add_member(lobby, game.game_id, second, "Altair")
    await set_status(lobby, game.game_id, "ready_to_start")
    started = await lobby.stub.UserLobbyGamesStart(pb.UserLobbyGamesStartRequest(user_id=owner, game_id=game.game_id))
    assert (started.status, started.runtime_status) == ("start_failed", "start_failed")
    history = await rows(lobby, "SELECT from_status, to_status, actor_kind, actor_id, reason "
                                "FROM lobby.game_transitions WHERE from_status IS NOT NULL ORDER BY transition_id")
    assert history == [
        {"from_status": "ready_to_start", "to_status": "starting", "actor_kind": "user", "actor_id": owner,
         "reason": "owner_start"},
        {"from_status": "starting", "to_status": "start_failed", "actor_kind": "system", "actor_id": "runtime",
         "reason": "runtime refused StartRuntime: engine version 1.4.0 is not registered"},
    ]
    retried = await lobby.stub.UserLobbyGamesRetryStart(
        pb.UserLobbyGamesRetryStartRequest(user_id=owner, game_id=game.game_id))
    assert retried.status == "start_failed"


async def test_pause_refused_by_runtime_is_a_conflict_and_changes_nothing(lobby):
    owner = await lobby.user()
    game = await create_private(lobby, owner)
    await set_status(lobby, game.game_id, "running")
    error = await error_of(lobby.stub.UserLobbyGamesPause(pb.UserLobbyGamesPauseRequest(user_id=owner,
                                                                                        game_id=game.game_id)))
    # The real runtime has no runtime for a game it never started: it refuses, lobby changes nothing.
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "PauseRuntime" in error.details()
    assert (await game_row(lobby, game.game_id))["status"] == "running"


async def test_patch_rules(lobby):
    owner, other = await lobby.user(), await lobby.user()
    game = await create_private(lobby, owner)

    def patch(user: str, **fields):
        return lobby.stub.UserLobbyGamesUpdate(pb.UserLobbyGamesUpdateRequest(
            user_id=user, game_id=game.game_id, body=pb.LobbyGameUpdateRequest(**fields)))

    assert (await error_of(patch(other, game_name="Mine now"))).code() == FORBIDDEN
    changed = await patch(owner, game_name="Perseus Arm", max_players=6, turn_schedule="30 18 * * 1-5")
    assert (changed.game_name, changed.max_players, changed.turn_schedule) == ("Perseus Arm", 6, "30 18 * * 1-5")
    unchanged = await patch(owner)
    assert unchanged.updated_at == changed.updated_at
    for bad, message in (({"min_players": 7}, "min_players must not exceed"), ({"turn_schedule": "@daily x"}, "cron"),
                         ({"enrollment_ends_at": timestamp(later(seconds=-1))}, "future")):
        error = await error_of(patch(owner, **bad))
        assert error.code() == INVALID and message in error.details()
    for user in (await lobby.user(), await lobby.user(), await lobby.user()):
        await add_member(lobby, game.game_id, user, f"Race_{user[:6]}")
    below = await error_of(patch(owner, max_players=2))
    assert below.code() == CONFLICT and "below the 3 active members" in below.details()
    await set_status(lobby, game.game_id, "running")
    late = await error_of(patch(owner, game_name="Too late"))
    assert late.code() == CONFLICT and "running can no longer be changed" in late.details()
    row = await game_row(lobby, game.game_id)
    assert (row["game_name"], row["max_players"]) == ("Perseus Arm", 6)


async def test_lists_and_details(lobby):
    owner = await lobby.user()
    private = await create_private(lobby, owner)
    public = [await lobby.stub.AdminGamesCreate(pb.AdminGamesCreateRequest(
        admin_username=ADMIN, body=admin_body(game_name=f"Public {i}"))) for i in range(3)]
    first = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=1, page_size=2))
    assert (first.total, first.page, first.page_size) == (3, 1, 2)
    assert [g.game_id for g in first.items] == [public[2].game_id, public[1].game_id]
    second = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=2, page_size=2))
    assert [g.game_id for g in second.items] == [public[0].game_id] and second.total == 3
    beyond = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=9, page_size=2))
    assert (list(beyond.items), beyond.total) == ([], 3)
    farthest = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=2**31 - 1,
                                                                               page_size=200))
    assert (list(farthest.items), farthest.total) == ([], 3)  # an offset past 2³¹ is still just empty
    admin = await lobby.stub.AdminGamesList(pb.AdminGamesListRequest(admin_username=ADMIN, page=1, page_size=50))
    assert admin.total == 4 and private.game_id in [g.game_id for g in admin.items]
    mine = await lobby.stub.UserLobbyMyGames(pb.UserLobbyMyGamesRequest(user_id=owner))
    assert [g.game_id for g in mine.items] == [private.game_id]
    got = await lobby.stub.UserLobbyGamesGet(pb.UserLobbyGamesGetRequest(user_id=owner, game_id=public[0].game_id))
    assert got == public[0]
    assert await lobby.stub.AdminGamesGet(pb.AdminGamesGetRequest(admin_username=ADMIN,
                                                                  game_id=private.game_id)) == private
    missing = await error_of(lobby.stub.AdminGamesGet(pb.AdminGamesGetRequest(admin_username=ADMIN,
                                                                              game_id=str(uuid.uuid4()))))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    bad = await error_of(lobby.stub.UserLobbyGamesGet(pb.UserLobbyGamesGetRequest(user_id=owner, game_id="nope")))
    assert bad.code() == INVALID


async def test_the_list_totals_stay_exact_through_creations_moves_and_compaction(lobby_with_runtime, deps):
    """The totals come from lobby.game_counts (deltas kept by a trigger), not from counting games."""
    from galaxy_lobby.domain import game_counts

    lobby = lobby_with_runtime
    owner = await lobby.user()

    async def totals() -> tuple[int, int]:
        public = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=1,
                                                                                  page_size=1))
        every = await lobby.stub.AdminGamesList(pb.AdminGamesListRequest(admin_username=ADMIN, page=1, page_size=1))
        return public.total, every.total

    async def counted() -> tuple[int, int]:
        [row] = await rows(lobby, """
            SELECT count(*) FILTER (WHERE visibility = 'public' AND status IN
                ('enrollment_open', 'ready_to_start', 'starting', 'start_failed', 'running', 'paused')) AS public,
                count(*) AS every FROM lobby.games""")
        return row["public"], row["every"]

    async def listed_statuses() -> dict[str, str]:
        page = await lobby.stub.UserLobbyGamesList(pb.UserLobbyGamesListRequest(user_id=owner, page=1,
                                                                                page_size=50))
        return {g.game_id: g.status for g in page.items}

    public = await asyncio.gather(*(lobby.stub.AdminGamesCreate(pb.AdminGamesCreateRequest(
        admin_username=ADMIN, body=admin_body(game_name=f"Public {i}"))) for i in range(12)))
    private = await asyncio.gather(*(create_private(lobby, owner) for _ in range(3)))
    assert await totals() == await counted() == (12, 15)
    assert set((await listed_statuses()).values()) == {GameStatus.ENROLLMENT_OPEN}

    # Any writer of games is counted, the state machine or not: out of the list, and back into it.
    await set_status(lobby, public[0].game_id, GameStatus.FINISHED)
    await set_status(lobby, public[1].game_id, GameStatus.CANCELLED)
    await set_status(lobby, public[2].game_id, GameStatus.RUNNING)
    await rows(lobby, "UPDATE lobby.games SET status = 'cancelled' WHERE game_id = :g",
               g=uuid.UUID(private[0].game_id))
    await lobby.stub.UserLobbyGamesCancel(pb.UserLobbyGamesCancelRequest(user_id=owner, game_id=private[1].game_id))
    assert await totals() == await counted() == (10, 15)
    await set_status(lobby, public[1].game_id, GameStatus.PAUSED)
    assert await totals() == await counted() == (11, 15)
    # A game listed before with other values is shown as it is now (the summaries cached by value).
    statuses = await listed_statuses()
    assert (statuses[public[1].game_id], statuses[public[2].game_id]) == (GameStatus.PAUSED, GameStatus.RUNNING)
    assert public[0].game_id not in statuses and len(statuses) == 11

    # Two replicas folding at once: one row per (visibility, status) is left, the totals unchanged.
    await asyncio.gather(game_counts.compact(deps), game_counts.compact(deps))
    assert await totals() == (11, 15)
    left = await rows(lobby, "SELECT visibility, status, n FROM lobby.game_counts ORDER BY 1, 2")
    assert {(r["visibility"], r["status"]): r["n"] for r in left} == {
        ("private", "cancelled"): 2, ("private", "draft"): 1, ("public", "enrollment_open"): 9,
        ("public", "finished"): 1, ("public", "paused"): 1, ("public", "running"): 1,
    }
