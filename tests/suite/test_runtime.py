"""A whole game through the edge under runtime's local-process driver, every process real:
three players join, the game starts (a real engine process), orders and commands reach the engine
with each player's race and integers survive the trip, a forced turn, each player's report for
turn 1, an early turn once every player's orders are final, a patch with the state kept, a killed engine answered with 503 and brought back, force-stop
and the engine is gone. A non-member gets 404 from the proxy."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from suite_helpers import as_user, error_of, new_address, query, sign_in, user_of, wait_until

# Kills an engine of the local driver by its pid: not against an external suite (make compose-test).
pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

LOBBY = "/api/v1/user/lobby"
BIG = 2**53 + 1



def users(http, suite, count: int) -> list[str]:
    def one(i: int) -> str:
        return user_of(http, sign_in(http, suite, new_address(f"runtime{i}")))
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def start_a_game(http, suite, owner: str, players: list[tuple[str, str]]) -> str:
    enrollment_ends = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    game = ok(http.post(f"{LOBBY}/games", headers=as_user(owner), json={
        "game_name": "Runtime Run", "visibility": "private", "min_players": 3, "max_players": 3,
        "start_gap_hours": 0, "start_gap_players": 0, "enrollment_ends_at": enrollment_ends,
        "turn_schedule": "0 0 1 1 *", "target_engine_version": "1.0.0"}), 201)
    game_id = game["game_id"]
    ok(http.post(f"{LOBBY}/games/{game_id}/open-enrollment", headers=as_user(owner)))
    for user, race in players:
        applied = ok(http.post(f"{LOBBY}/games/{game_id}/applications", headers=as_user(user),
                               json={"race_name": race}), 201)
        ok(http.post(f"{LOBBY}/games/{game_id}/applications/{applied['application_id']}/approve",
                     headers=as_user(owner)))
    ok(http.post(f"{LOBBY}/games/{game_id}/ready-to-start", headers=as_user(owner)))
    assert ok(http.post(f"{LOBBY}/games/{game_id}/start", headers=as_user(owner)), 202)["status"] == "starting"
    wait_until(lambda: http.get(f"{LOBBY}/games/{game_id}", headers=as_user(owner)).json()["status"] == "running",
               "the game did not reach running (runtime's status event through lobby)")
    return game_id


def test_a_game_played_through_the_edge(http, suite):
    owner, ann, bob, cid, stranger = users(http, suite, 5)
    races = {ann: "Vega", bob: "Altair", cid: "Deneb"}
    game_id = start_a_game(http, suite, owner, list(races.items()))
    games = f"/api/v1/user/games/{game_id}"
    admin = f"/api/v1/admin/runtimes/{game_id}"
    record = ok(http.get(admin, auth=suite.admin_auth))
    assert (record["status"], record["image_ref"]) == ("running", "galaxy-engine:local")

    # Orders reach the engine as the player's race; the echo keeps integers integers.
    design = {"op": "design", "name": "Probe", "drive": 5, "attacks": 0, "weapons": 0, "shields": 0, "cargo": 0}
    stored = ok(http.post(f"{games}/orders", headers=as_user(ann), json={"orders": [design]}))
    assert stored["orders"] == [design] and type(stored["orders"][0]["drive"]) is int
    evaluated = http.post(f"{games}/commands", headers={**as_user(bob), "content-type": "application/json"},
                          content=b'{"command": "evaluate_design", "drive": %d, "attacks": 0, "weapons": 0, '
                                  b'"shields": 0, "cargo": 5}' % BIG)
    assert evaluated.status_code == 200, evaluated.text
    result = evaluated.json()["result"]
    assert result["drive"] == BIG and result["cargo"] == 5 and type(result["cargo"]) is int
    assert b'"drive":%d' % BIG in evaluated.content.replace(b" ", b"")
    bad = error_of(http.post(f"{games}/orders", headers=as_user(cid), json={"orders": [{"op": "fly"}]}),
                   400, "invalid_request")
    assert "orders[0]" in bad["message"]

    # Anyone but an active member: 404, as if the game did not exist.
    for call in (lambda u: http.post(f"{games}/orders", headers=as_user(u), json={"orders": []}),
                 lambda u: http.post(f"{games}/commands", headers=as_user(u), json={"command": "races"}),
                 lambda u: http.get(f"{games}/reports/0", headers=as_user(u))):
        error_of(call(stranger), 404, "not_found")
        error_of(call(owner), 404, "not_found")  # the owner did not join as a player

    forced = ok(http.post(f"{admin}/force-next-turn", auth=suite.admin_auth))
    assert (forced["op"], forced["game_id"]) == ("force_next_turn", game_id)
    wait_until(lambda: http.get(f"{games}/reports/1", headers=as_user(ann)).status_code == 200,
               "turn 1 did not run")
    reports = {user: ok(http.get(f"{games}/reports/1", headers=as_user(user))) for user in races}
    assert {user: r["race"] for user, r in reports.items()} == races
    assert "Probe" in reports[ann]["designs"]
    assert "Probe" not in reports[bob]["designs"]
    wait_until(lambda: query(suite, "SELECT current_turn FROM lobby.games WHERE game_id = $1",
                             uuid.UUID(game_id)) == [(1,)], "lobby did not learn of turn 1")

    # Every player marks its orders final: the turn runs at once, in place of the next slot.
    for user in races:
        stored = ok(http.post(f"{games}/orders", headers=as_user(user), json={"orders": [], "final": True}))
    assert stored["all_final"] is True
    wait_until(lambda: http.get(f"{games}/reports/2", headers=as_user(ann)).status_code == 200,
               "the early turn did not run")
    assert query(suite, "SELECT kind, turn FROM runtime.turn_ticks WHERE game_id = $1 ORDER BY turn",
                 uuid.UUID(game_id)) == [("forced", 1), ("early", 2)]
    wait_until(lambda: query(suite, "SELECT current_turn FROM lobby.games WHERE game_id = $1",
                             uuid.UUID(game_id)) == [(2,)], "lobby did not learn of turn 2")
    intents = query(suite, "SELECT key FROM runtime.outbox WHERE topic = 'galaxy.notify.intents.v1'")
    assert sorted(k for (k,) in intents) == sorted([*races, *races])

    # Patch: another patch release of 1.0, the game as it was.
    ok(http.post("/api/v1/admin/engine-versions", auth=suite.admin_auth,
                 json={"version": "1.0.1", "image_ref": "galaxy-engine:local"}), 201)
    error_of(http.post("/api/v1/admin/engine-versions", auth=suite.admin_auth,
                       json={"version": "1.0.1", "image_ref": "other"}), 409, "conflict")
    error_of(http.post(f"{admin}/patch", auth=suite.admin_auth, json={"target_version": "1.1.0"}),
             400, "invalid_request")
    before = record["current_container_id"]
    ok(http.post(f"{admin}/patch", auth=suite.admin_auth, json={"target_version": "1.0.1"}), 202)
    wait_until(lambda: http.get(admin, auth=suite.admin_auth).json()["current_container_id"] != before,
               "the patch did not replace the engine")
    assert query(suite, "SELECT engine_version, current_turn FROM runtime.runtimes WHERE game_id = $1",
                 uuid.UUID(game_id)) == [("1.0.1", 2)]
    assert ok(http.get(f"{games}/reports/1", headers=as_user(bob))) == reports[bob]
    error_of(http.get(f"{games}/reports/3", headers=as_user(bob)), 404, "not_found")

    # Kill the engine: the proxy answers 503 at once, the health watcher brings it back.
    killed = http.get(admin, auth=suite.admin_auth).json()["current_container_id"]
    os.kill(int(killed.removeprefix("pid:")), 9)
    begun = datetime.now(UTC)
    error_of(http.get(f"{games}/reports/1", headers=as_user(cid)), 503, "service_unavailable")
    assert datetime.now(UTC) - begun < timedelta(seconds=15)
    wait_until(lambda: http.get(admin, auth=suite.admin_auth).json()["current_container_id"] != killed,
               "the engine was not restarted")
    wait_until(lambda: http.get(f"{games}/reports/1", headers=as_user(cid)).status_code == 200,
               "the restarted engine does not answer")
    assert ok(http.get(f"{games}/reports/1", headers=as_user(cid))) == reports[cid]

    # Force-stop: the engine is gone.
    last = http.get(admin, auth=suite.admin_auth).json()["current_container_id"]
    ok(http.post(f"/api/v1/admin/games/{game_id}/force-stop", auth=suite.admin_auth))
    wait_until(lambda: http.get(admin, auth=suite.admin_auth).json()["status"] == "stopped",
               "the runtime did not stop")
    assert "current_container_id" not in http.get(admin, auth=suite.admin_auth).json()
    assert not _alive(int(last.removeprefix("pid:")))
    error_of(http.get(f"{games}/reports/1", headers=as_user(ann)), 409, "conflict")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
