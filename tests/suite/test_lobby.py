"""The lobby through the edge, every process real (runtime too: the reference engine 1.0.0 is registered).

Covers the life of a private game with three players, every illegal transition (409, nothing
changed), the last seat under 20 concurrent approvals and redeems, one canonical race name raced
by two users, registering over the allowance, account deletion releasing names and seats, bad
input on every route (400, nothing changed), and a public game from creation to its start.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from galaxy.events.v1.notify_pb2 import NotificationIntent
from galaxy_kit.events import unpack, unpack_payload
from suite_helpers import as_user, error_of, new_address, query, sign_in, user_of, wait_until

pytestmark = pytest.mark.suite

LOBBY = "/api/v1/user/lobby"
#: What lobby records when runtime refuses to start an engine version it does not have.
REFUSED_9_9_9 = "runtime refused StartRuntime: engine version 9.9.9 is not registered"




def users(http, suite, count: int, label: str = "lobby") -> list[str]:
    """`count` fresh signed-in users (signed in concurrently), their ids."""
    def one(i: int) -> str:
        return user_of(http, sign_in(http, suite, new_address(f"{label}{i}")))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def game_body(**overrides) -> dict:
    body = {"game_name": "Orion Spur", "visibility": "private", "min_players": 2, "max_players": 4,
            "start_gap_hours": 0, "start_gap_players": 0, "enrollment_ends_at": iso(datetime.now(UTC) + timedelta(days=2)),
            "turn_schedule": "0 */6 * * *", "target_engine_version": "1.4.0"}
    body.update(overrides)
    return body


def create_game(http, owner: str, **overrides) -> dict:
    created = http.post(f"{LOBBY}/games", headers=as_user(owner), json=game_body(**overrides))
    assert created.status_code == 201, created.text
    return created.json()


def open_game(http, owner: str, **overrides) -> dict:
    game = create_game(http, owner, **overrides)
    opened = http.post(f"{LOBBY}/games/{game['game_id']}/open-enrollment", headers=as_user(owner))
    assert opened.status_code == 200, opened.text
    return game


def apply(http, user: str, game_id: str, race_name: str) -> httpx.Response:
    return http.post(f"{LOBBY}/games/{game_id}/applications", headers=as_user(user), json={"race_name": race_name})


def approve(http, owner: str, game_id: str, application_id: str) -> httpx.Response:
    return http.post(f"{LOBBY}/games/{game_id}/applications/{application_id}/approve", headers=as_user(owner))


def join(http, owner: str, user: str, game_id: str, race_name: str) -> None:
    applied = apply(http, user, game_id, race_name)
    assert applied.status_code == 201, applied.text
    approved = approve(http, owner, game_id, applied.json()["application_id"])
    assert approved.status_code == 200, approved.text


def status_of(suite, game_id: str) -> str:
    return query(suite, "SELECT status FROM lobby.games WHERE game_id = $1", uuid.UUID(game_id))[0][0]


def test_the_life_of_a_private_game_with_three_players(http, suite, validate):
    owner, ann, bob, cid = users(http, suite, 4, "life")
    # The reference engine the suite's runtime registers; a turn only on 1 January (none during the test).
    game = create_game(http, owner, min_players=3, max_players=3, target_engine_version="1.0.0",
                       turn_schedule="0 0 1 1 *")
    validate("LobbyGameDetail", game)
    assert (game["status"], game["owner_user_id"], game["game_type"]) == ("draft", owner, "private")
    game_id = game["game_id"]
    opened = http.post(f"{LOBBY}/games/{game_id}/open-enrollment", headers=as_user(owner))
    validate("LobbyGameStateChange", opened.json())
    assert opened.json()["status"] == "enrollment_open"

    applied = apply(http, ann, game_id, "Star_Lords")
    assert applied.status_code == 201, applied.text
    validate("LobbyApplicationDetail", applied.json())
    approved = approve(http, owner, game_id, applied.json()["application_id"])
    assert approved.json()["status"] == "approved"
    bound = http.post(f"{LOBBY}/games/{game_id}/invites", headers=as_user(owner),
                      json={"invited_user_id": bob, "race_name": "Blue_Suns"})
    assert bound.status_code == 201, bound.text
    validate("LobbyInviteDetail", bound.json())
    mine = http.get(f"{LOBBY}/my/invites", headers=as_user(bob))
    validate("LobbyInviteList", mine.json())
    assert [i["invite_id"] for i in mine.json()["items"]] == [bound.json()["invite_id"]]
    redeemed = http.post(f"{LOBBY}/games/{game_id}/invites/{bound.json()['invite_id']}/redeem", headers=as_user(bob))
    assert redeemed.json()["status"] == "redeemed", redeemed.text
    coded = http.post(f"{LOBBY}/games/{game_id}/invites", headers=as_user(owner), json={"race_name": "Iron_Tide"})
    code = coded.json()["code"]
    assert http.post(f"{LOBBY}/games/{game_id}/invites/{code}/redeem", headers=as_user(cid)).status_code == 200
    members = http.get(f"{LOBBY}/games/{game_id}/memberships", headers=as_user(cid))
    validate("LobbyMembershipList", members.json())
    assert sorted((m["user_id"], m["race_name"], m["canonical_key"]) for m in members.json()["items"]) == sorted(
        [(ann, "Star_Lords", "starlords"), (bob, "Blue_Suns", "bluesuns"), (cid, "Iron_Tide", "lrontlde")])

    assert http.post(f"{LOBBY}/games/{game_id}/ready-to-start", headers=as_user(owner)).json()["status"] == \
        "ready_to_start"
    started = http.post(f"{LOBBY}/games/{game_id}/start", headers=as_user(owner))
    assert started.status_code == 202, started.text
    validate("LobbyGameStateChange", started.json())
    assert started.json() == {"game_id": game_id, "status": "starting", "runtime_status": "start_requested"}

    def detail() -> dict:
        got = http.get(f"{LOBBY}/games/{game_id}", headers=as_user(ann))
        validate("LobbyGameDetail", got.json())
        return got.json()

    wait_until(lambda: status_of(suite, game_id) in ("running", "start_failed"), "runtime did not answer the start")
    failed = query(suite, "SELECT reason FROM lobby.game_transitions WHERE game_id = $1 AND to_status = "
                          "'start_failed'", uuid.UUID(game_id))
    assert detail()["status"] == "running", failed
    assert detail()["started_at"] is not None
    for player in (ann, bob, cid):
        listed = http.get(f"{LOBBY}/my/games", headers=as_user(player))
        validate("MyGamesListResponse", listed.json())
        assert [g["game_id"] for g in listed.json()["items"]] == [game_id]
    names = http.get(f"{LOBBY}/my/race-names", headers=as_user(ann))
    validate("RaceNameList", names.json())
    assert [(n["name"], n["status"], n["game_id"]) for n in names.json()["items"]] == \
        [("Star_Lords", "reservation", game_id)]
    error_of(http.post(f"{LOBBY}/games/{game_id}/pause", headers=as_user(ann)), 403, "forbidden")
    assert http.post(f"{LOBBY}/games/{game_id}/pause", headers=as_user(owner)).json()["status"] == "paused"
    assert http.post(f"{LOBBY}/games/{game_id}/resume", headers=as_user(owner)).json()["status"] == "running"
    stopped = http.post(f"/api/v1/admin/games/{game_id}/force-stop", auth=suite.admin_auth)
    assert (stopped.status_code, stopped.json()["status"]) == (200, "finished"), stopped.text
    assert detail()["finished_at"] is not None
    names = http.get(f"{LOBBY}/my/race-names", headers=as_user(ann)).json()["items"]
    assert [(n["name"], n["status"], n["source_game_id"]) for n in names] == \
        [("Star_Lords", "pending_registration", game_id)]
    registered = http.post(f"{LOBBY}/race-names/register", headers=as_user(ann), json={"name": "STAR_LORDS"})
    assert (registered.status_code, registered.json()["status"]) == (200, "registered"), registered.text
    history = query(suite, "SELECT from_status, to_status FROM lobby.game_transitions WHERE game_id = $1 "
                           "ORDER BY transition_id", uuid.UUID(game_id))
    assert history == [(None, "draft"), ("draft", "enrollment_open"), ("enrollment_open", "ready_to_start"),
                       ("ready_to_start", "starting"), ("starting", "running"), ("running", "paused"),
                       ("paused", "running"), ("running", "finished")]
    told = query(suite, "SELECT key, payload FROM lobby.outbox ORDER BY id")
    assert told
    kinds = {(key, kind) for key, kind in
             ((k, unpack_payload(unpack(bytes(p)), NotificationIntent).kind) for k, p in told)}
    for kind in ("lobby.game.started", "lobby.game.paused", "lobby.game.resumed", "lobby.game.finished"):
        assert {(u, kind) for u in (owner, ann, bob, cid)} <= kinds, kind
    wait_until(lambda: query(suite, "SELECT count(*) FROM lobby.outbox WHERE published_at IS NULL") == [(0,)],
               "lobby's relay did not publish its notification intents")


#: route suffix (POST on the game), caller (owner or admin), target, the statuses it accepts.
MOVES = [
    ("open-enrollment", "owner", "enrollment_open", {"draft"}),
    ("ready-to-start", "owner", "ready_to_start", {"enrollment_open"}),
    ("start", "owner", "starting", {"ready_to_start"}),
    ("retry-start", "owner", "starting", {"start_failed"}),
    ("pause", "owner", "paused", {"running"}),
    ("resume", "owner", "running", {"paused"}),
    ("cancel", "owner", "cancelled", {"draft", "enrollment_open", "ready_to_start", "starting", "start_failed"}),
    ("force-start", "admin", "starting", {"enrollment_open", "ready_to_start", "start_failed"}),
    ("force-stop", "admin", "finished", {"running", "paused"}),
]
STATUSES = ["draft", "enrollment_open", "ready_to_start", "starting", "start_failed", "running", "paused",
            "finished", "cancelled"]


def test_every_illegal_transition_is_409_and_changes_nothing(http, suite):
    [owner] = users(http, suite, 1, "illegal")
    game_id = create_game(http, owner, min_players=1)["game_id"]
    for route, caller, target, sources in MOVES:
        for status in STATUSES:
            if status in sources:
                continue
            query(suite, "UPDATE lobby.games SET status = $1 WHERE game_id = $2", status, uuid.UUID(game_id))
            before = query(suite, "SELECT * FROM lobby.games WHERE game_id = $1", uuid.UUID(game_id))
            counts = query(suite, "SELECT (SELECT count(*) FROM lobby.game_transitions), "
                                  "(SELECT count(*) FROM lobby.outbox)")
            if caller == "admin":
                answer = http.post(f"/api/v1/admin/games/{game_id}/{route}", auth=suite.admin_auth)
            else:
                answer = http.post(f"{LOBBY}/games/{game_id}/{route}", headers=as_user(owner))
            error = error_of(answer, 409, "conflict")
            assert error["message"] == f"the game cannot move from {status} to {target}", (route, status)
            assert query(suite, "SELECT * FROM lobby.games WHERE game_id = $1", uuid.UUID(game_id)) == before
            assert query(suite, "SELECT (SELECT count(*) FROM lobby.game_transitions), "
                                "(SELECT count(*) FROM lobby.outbox)") == counts


def test_the_last_seat_under_twenty_concurrent_approvals_and_redeems(http, suite):
    owner, *players = users(http, suite, 21, "seat")
    game_id = open_game(http, owner, min_players=1, max_players=2)["game_id"]
    applicants, invitees = players[:10], players[10:]
    applications = [apply(http, u, game_id, f"Applicant_{i}").json()["application_id"]
                    for i, u in enumerate(applicants)]
    invites = [http.post(f"{LOBBY}/games/{game_id}/invites", headers=as_user(owner),
                         json={"invited_user_id": u, "race_name": f"Invitee_{i}"}).json()["invite_id"]
               for i, u in enumerate(invitees)]

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=suite.edge_url, timeout=60.0) as client:
            calls = [client.post(f"{LOBBY}/games/{game_id}/applications/{a}/approve", headers=as_user(owner))
                     for a in applications]
            calls += [client.post(f"{LOBBY}/games/{game_id}/invites/{i}/redeem", headers=as_user(u))
                      for u, i in zip(invitees, invites, strict=True)]
            return await asyncio.gather(*calls)

    answers = asyncio.run(race())
    assert sorted(a.status_code for a in answers) == [200] * 2 + [409] * 18, [a.text for a in answers]
    assert all("the game is full" in a.json()["error"]["message"] for a in answers if a.status_code == 409)
    assert query(suite, "SELECT count(*) FROM lobby.memberships WHERE game_id = $1 AND status = 'active'",
                 uuid.UUID(game_id)) == [(2,)]


def test_one_canonical_name_raced_by_two_users(http, suite):
    owner, ann, bob = users(http, suite, 3, "name")
    game_id = open_game(http, owner)["game_id"]

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=suite.edge_url, timeout=60.0) as client:
            return await asyncio.gather(*(
                client.post(f"{LOBBY}/games/{game_id}/applications", headers=as_user(u), json={"race_name": name})
                for u, name in ((ann, "Night_Hawks"), (bob, "N1GHT_HAWKS"))))

    answers = asyncio.run(race())
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert "held by another player" in loser.json()["error"]["message"]
    assert len(query(suite, "SELECT DISTINCT owner_user_id FROM lobby.race_names WHERE canonical_key = "
                            "'nlghthawks'")) == 1


def finish_game_with(http, suite, owner: str, player: str, race_name: str) -> str:
    game_id = open_game(http, owner, min_players=1)["game_id"]
    join(http, owner, player, game_id, race_name)
    query(suite, "UPDATE lobby.games SET status = 'running' WHERE game_id = $1", uuid.UUID(game_id))
    stopped = http.post(f"/api/v1/admin/games/{game_id}/force-stop", auth=suite.admin_auth)
    assert (stopped.status_code, stopped.json()["status"]) == (200, "finished"), stopped.text
    return game_id


def test_registering_over_the_allowance_is_409(http, suite, validate):
    owner, player = users(http, suite, 2, "register")
    finish_game_with(http, suite, owner, player, "Star_Wolves")
    finish_game_with(http, suite, owner, player, "Sun_Eaters")
    first = http.post(f"{LOBBY}/race-names/register", headers=as_user(player), json={"name": "star_wolves"})
    assert first.status_code == 200, first.text
    validate("RaceNameDetail", first.json())
    assert (first.json()["status"], first.json()["name"]) == ("registered", "Star_Wolves")
    over = http.post(f"{LOBBY}/race-names/register", headers=as_user(player), json={"name": "Sun_Eaters"})
    assert "allowance is 1" in error_of(over, 409, "conflict")["message"]
    assert query(suite, "SELECT name FROM lobby.race_names WHERE owner_user_id = $1 AND status = 'registered'",
                 uuid.UUID(player)) == [("Star_Wolves",)]


def test_account_deletion_releases_names_and_seats(http, suite):
    owner, leaving, other = users(http, suite, 3, "deleting")
    game_id = open_game(http, owner)["game_id"]
    join(http, owner, leaving, game_id, "Last_Light")
    own_game = create_game(http, leaving)["game_id"]
    deleted = http.post("/api/v1/user/account/delete", headers=as_user(leaving))
    assert deleted.status_code == 204, deleted.text

    def released() -> bool:
        return query(suite, "SELECT count(*) FROM lobby.race_names WHERE owner_user_id = $1",
                     uuid.UUID(leaving)) == [(0,)] and status_of(suite, own_game) == "cancelled"

    wait_until(released, "lobby did not release the deleted account's names and games")
    assert query(suite, "SELECT status, reason FROM lobby.memberships WHERE user_id = $1", uuid.UUID(leaving)) == \
        [("removed", "account_soft_deleted")]
    taken = apply(http, other, game_id, "LAST_L1GHT")
    assert taken.status_code == 201, taken.text  # the name is free again


def test_bad_input_on_every_route_is_400_and_changes_nothing(http, suite):
    [owner] = users(http, suite, 1, "badinput")
    game = open_game(http, owner)
    g = game["game_id"]
    some = str(uuid.uuid4())
    past = iso(datetime.now(UTC) - timedelta(hours=1))
    user = as_user(owner)
    admin = {"auth": suite.admin_auth}
    cases = [
        ("GET", f"{LOBBY}/games?page=0", user, None),
        ("GET", f"{LOBBY}/games?page_size=500", user, None),
        ("POST", f"{LOBBY}/games", user, game_body(min_players=5, max_players=2)),
        ("POST", f"{LOBBY}/games", user, game_body(turn_schedule="*/5 * * * * *")),
        ("POST", f"{LOBBY}/games", user, game_body(target_engine_version="latest")),
        ("POST", f"{LOBBY}/games", user, game_body(enrollment_ends_at=past)),
        ("POST", f"{LOBBY}/games", user, game_body(visibility="public")),
        ("POST", f"{LOBBY}/games", user, {**game_body(), "colour": "red"}),
        ("GET", f"{LOBBY}/games/not-a-uuid", user, None),
        ("PATCH", f"{LOBBY}/games/{g}", user, {"max_players": 0}),
        ("PATCH", f"{LOBBY}/games/{g}", user, {"turn_schedule": "never"}),
        ("PATCH", f"{LOBBY}/games/{g}", user, {"min_players": 9}),
        *[("POST", f"{LOBBY}/games/not-a-uuid/{r}", user, None) for r in
          ("open-enrollment", "ready-to-start", "start", "pause", "resume", "cancel", "retry-start")],
        ("POST", f"{LOBBY}/games/{g}/applications", user, {"race_name": ""}),
        ("POST", f"{LOBBY}/games/{g}/applications", user, {"race_name": "<b>bold</b>"}),
        ("POST", f"{LOBBY}/games/{g}/applications", user, {"race_name": "x" * 21}),
        ("POST", f"{LOBBY}/games/{g}/applications", user, {"race_name": "Star Lords"}),
        ("POST", f"{LOBBY}/games/{g}/applications", user, {"race_name": "Ѕtarlords"}),
        ("POST", f"{LOBBY}/games/{g}/applications/not-a-uuid/approve", user, None),
        ("POST", f"{LOBBY}/games/{g}/applications/not-a-uuid/reject", user, None),
        ("POST", f"{LOBBY}/games/{g}/invites", user, {"race_name": "Fine", "invited_user_id": "nope"}),
        ("POST", f"{LOBBY}/games/{g}/invites", user, {"race_name": "Fine", "expires_at": past}),
        ("POST", f"{LOBBY}/games/{g}/invites", user, {"race_name": "--"}),
        ("POST", f"{LOBBY}/games/{g}/invites", user, {"invited_user_id": some}),
        *[("POST", f"{LOBBY}/games/{g}/invites/not-a-uuid/{r}", user, None) for r in ("redeem", "decline", "revoke")],
        ("GET", f"{LOBBY}/games/not-a-uuid/memberships", user, None),
        ("POST", f"{LOBBY}/games/{g}/memberships/not-a-uuid/remove", user, None),
        ("POST", f"{LOBBY}/games/{g}/memberships/not-a-uuid/block", user, None),
        ("GET", f"{LOBBY}/my/games", {"X-User-ID": "not-a-uuid"}, None),
        ("GET", f"{LOBBY}/my/applications", {"X-User-ID": some}, None),
        ("GET", f"{LOBBY}/my/invites", {"X-User-ID": "not-a-uuid"}, None),
        ("GET", f"{LOBBY}/my/race-names", {"X-User-ID": some}, None),
        ("POST", f"{LOBBY}/race-names/register", user, {"name": ""}),
        ("POST", f"{LOBBY}/race-names/register", user, {"name": "a", "extra": 1}),
        ("GET", "/api/v1/admin/games?page_size=0", admin, None),
        ("POST", "/api/v1/admin/games", admin, {**game_body(min_players=3, max_players=2), "visibility": None}),
        ("POST", "/api/v1/admin/games", admin, {k: v for k, v in game_body(turn_schedule="bad").items()
                                                if k != "visibility"}),
        ("GET", "/api/v1/admin/games/not-a-uuid", admin, None),
        ("POST", "/api/v1/admin/games/not-a-uuid/force-start", admin, None),
        ("POST", "/api/v1/admin/games/not-a-uuid/force-stop", admin, None),
        ("POST", f"/api/v1/admin/games/{g}/ban-member", admin, {"user_id": "nope", "reason": "x"}),
        ("POST", f"/api/v1/admin/games/{g}/ban-member", admin, {"user_id": some, "reason": ""}),
        ("POST", f"/api/v1/admin/games/{g}/ban-member", admin, {"user_id": owner, "reason": "nul\u0000here"}),
        ("POST", "/api/v1/admin/games", admin, {k: v for k, v in game_body(game_name="tab\tname").items()
                                                if k != "visibility"}),
    ]
    snapshot = "SELECT (SELECT count(*) FROM lobby.games), (SELECT max(updated_at) FROM lobby.games), " \
               "(SELECT count(*) FROM lobby.applications), (SELECT count(*) FROM lobby.invites), " \
               "(SELECT count(*) FROM lobby.memberships), (SELECT count(*) FROM lobby.race_names), " \
               "(SELECT count(*) FROM lobby.game_transitions)"
    before = query(suite, snapshot)
    for method, path, caller, body in cases:
        extra = dict(caller) if "auth" in caller else {"headers": caller}
        answer = http.request(method, path, json=body, **extra)
        assert answer.status_code == 400, (method, path, body, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request"
    assert query(suite, snapshot) == before


def test_a_public_game_from_creation_to_start(http, suite, validate):
    first, second = users(http, suite, 2, "public")
    created = http.post("/api/v1/admin/games", auth=suite.admin_auth, json={
        k: v for k, v in game_body(game_name="Open Frontier", min_players=2, max_players=2,
                                   target_engine_version="9.9.9").items()
        if k != "visibility"})
    assert created.status_code == 201, created.text
    validate("LobbyGameDetail", created.json())
    game = created.json()
    assert (game["status"], game["game_type"], game.get("owner_user_id")) == ("enrollment_open", "public", None)
    listed = http.get(f"{LOBBY}/games", headers=as_user(first), params={"page_size": 200})
    validate("GameSummaryPage", listed.json())
    assert game["game_id"] in [g["game_id"] for g in listed.json()["items"]]
    admin_list = http.get("/api/v1/admin/games", auth=suite.admin_auth)
    validate("AdminGameList", admin_list.json())
    assert admin_list.json()["total"] >= listed.json()["total"]
    late = users(http, suite, 1, "late")[0]  # signed in first: the seat check below races only the scheduler
    for user, name in ((first, "Frontier_One"), (second, "Frontier_Two")):
        applied = apply(http, user, game["game_id"], name)
        assert (applied.status_code, applied.json()["status"]) == (201, "approved"), applied.text
    full = apply(http, late, game["game_id"], "Too_Late")
    refused = error_of(full, 409, "conflict")["message"]
    # Refused either way: full, or (when the 5 s scheduler already started the full game) no longer enrolling.
    assert "the game is full" in refused or "the game is not enrolling" in refused, refused
    # The scheduler (every 5 s) starts the full game; runtime refuses an engine version it does not have.
    wait_until(lambda: status_of(suite, game["game_id"]) == "start_failed", "the public game did not start",
               timeout=60, interval=0.5)
    history = query(suite, "SELECT to_status, actor_kind, reason FROM lobby.game_transitions WHERE game_id = $1 "
                           "ORDER BY transition_id", uuid.UUID(game["game_id"]))
    assert history == [("enrollment_open", "admin", "created"), ("ready_to_start", "system", "quorum_reached"),
                       ("starting", "system", "full"),
                       ("start_failed", "system", REFUSED_9_9_9)]
    detail = http.get(f"/api/v1/admin/games/{game['game_id']}", auth=suite.admin_auth)
    validate("LobbyGameDetail", detail.json())
    assert detail.json()["status"] == "start_failed"
