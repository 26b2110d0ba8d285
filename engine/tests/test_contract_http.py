"""The engine contract against the real process over HTTP (docs/engine.md).

Every answer is checked against the machine-readable contract
(contract/engine.openapi.yaml) besides the assertions on its content.
"""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from engine_testkit import EngineProcess, check_schema

ROSTER = [
    {"user_id": "user-1", "race": "Vogons"},
    {"user_id": "user-2", "race": "Zzyax"},
    {"user_id": "user-3", "race": "Camels"},
]
INIT = {"seed": 20261129, "roster": ROSTER, "turn_limit": 30}
BIG = 2**53 + 1


@pytest.fixture
def engine(tmp_path: Path):
    proc = EngineProcess(tmp_path / "state").start()
    yield proc
    proc.stop()


def _ok(resp, schema: str, status: int = 200) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    check_schema(body, schema)
    return body


def _error(resp, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    check_schema(body, "Error")
    assert body["error"]["code"] == code
    return body["error"]["message"]


def _home(engine: EngineProcess, race: str) -> int:
    report = _ok(engine.get(f"/v1/races/{race}/reports/0"), "Report")
    return next(p["id"] for p in report["planets"] if p["view"] == "own")


def _reports(engine: EngineProcess, turn: int) -> dict[str, str]:
    out = {}
    for m in ROSTER:
        resp = engine.get(f"/v1/races/{m['race']}/reports/{turn}")
        _ok(resp, "Report")
        out[m["race"]] = resp.text
    return out


def test_health_names_the_contract_and_the_game(engine):
    health = _ok(engine.get("/v1/health"), "Health")
    assert health["contract_version"] == "1.0.0" and health["game"] is None
    _ok(engine.post("/v1/game", INIT), "Game", 201)
    health = _ok(engine.get("/v1/health"), "Health")
    assert health["game"] == {"turn": 0, "status": "running"}
    contract = engine.get("/v1/contract")
    assert contract.status_code == 200 and b"Galaxy engine contract" in contract.content


def test_a_game_of_three_races_over_http(engine):
    # before init, the game operations say so
    assert "not initialised" in _error(engine.get("/v1/game"), 409, "conflict")

    game = _ok(engine.post("/v1/game", INIT), "Game", 201)
    assert [r["race"] for r in game["races"]] == ["Vogons", "Zzyax", "Camels"]
    assert (game["turn"], game["next_turn"], game["all_final"]) == (0, 1, False)
    # the same init again is harmless; another one is refused
    assert _ok(engine.post("/v1/game", INIT), "Game", 200) == game
    _error(engine.post("/v1/game", {**INIT, "seed": 1}), 409, "conflict")

    homes = {m["race"]: _home(engine, m["race"]) for m in ROSTER}
    assert len(set(homes.values())) == 3

    # orders: accepted and echoed; a bad batch is a 400 naming each problem and changes nothing
    vogons = [{"op": "produce", "planet": homes["Vogons"], "what": "ship", "ship_type": "Fighter"}]
    accepted = _ok(engine.post("/v1/races/Vogons/orders", {"orders": vogons}), "Orders")
    assert (accepted["turn"], accepted["orders"], accepted["final"]) == (1, vogons, False)
    bad = [
        {"op": "produce", "planet": homes["Zzyax"], "what": "materials"},
        {"op": "send", "group": 1, "to": homes["Zzyax"], "count": 2.0},
    ]
    message = _error(engine.post("/v1/races/Vogons/orders", {"orders": bad, "final": True}),
                     400, "invalid_request")
    assert message == "orders[1].count: must be an integer"
    bad[1]["count"] = 2
    message = _error(engine.post("/v1/races/Vogons/orders", {"orders": bad, "final": True}),
                     400, "invalid_request")
    assert message == (f"orders[0] (produce): planet {homes['Zzyax']} is not yours; "
                       "orders[1] (send): you have no group 1")
    kept = _ok(engine.get("/v1/races/Vogons/orders"), "Orders")
    assert (kept["orders"], kept["final"]) == (vogons, False)
    _error(engine.post("/v1/races/Nobody/orders", {"orders": []}), 404, "not_found")
    _error(engine.post("/v1/races/Vogons/orders", {"orders": [], "turn": 2}), 409, "conflict")

    # every race marks its orders final: the game says so (runtime may run the turn early)
    _ok(engine.post("/v1/races/Vogons/orders", {"orders": vogons, "final": True}), "Orders")
    _ok(engine.post("/v1/races/Zzyax/orders", {"orders": [], "final": True}), "Orders")
    game = _ok(engine.get("/v1/game"), "Game")
    assert [r["final"] for r in game["races"]] == [True, True, False] and not game["all_final"]
    last = _ok(engine.post("/v1/races/Camels/orders",
                           {"orders": [{"op": "produce", "planet": homes["Camels"],
                                        "what": "materials"}], "final": True, "turn": 1}),
               "Orders")
    assert last["all_final"] is True

    # turn 1 runs once
    ran = _ok(engine.post("/v1/turns/1"), "TurnResult")
    assert ran["ran"] is True and ran["game"]["turn"] == 1 and ran["game"]["next_turn"] == 2
    assert [r["final"] for r in ran["game"]["races"]] == [False, False, False]
    first = _reports(engine, 1)
    vogons_report = json.loads(first["Vogons"])
    assert vogons_report["turn"] == 1
    assert [(g["ship_type"], g["at"]) for g in vogons_report["groups"]] == [
        ("Fighter", homes["Vogons"])]
    assert vogons_report["groups"][0]["count"] > 0
    assert vogons_report["order_results"][0]["status"] == "done"
    camels = json.loads(first["Camels"])
    assert next(p for p in camels["planets"] if p["view"] == "own")["materials"] > 0
    assert camels["groups"] == []

    again = _ok(engine.post("/v1/turns/1"), "TurnResult")
    assert again["ran"] is False and again["game"]["turn"] == 1
    assert _reports(engine, 1) == first
    _error(engine.post("/v1/turns/3"), 409, "conflict")
    _error(engine.post("/v1/turns/0"), 400, "invalid_request")
    _error(engine.get("/v1/races/Vogons/reports/2"), 404, "not_found")
    _error(engine.get("/v1/races/Nobody/reports/1"), 404, "not_found")


def test_concurrent_calls_to_run_one_turn_run_it_once(engine):
    _ok(engine.post("/v1/game", INIT), "Game", 201)
    home = _home(engine, "Vogons")
    _ok(engine.post("/v1/races/Vogons/orders",
                    {"orders": [{"op": "produce", "planet": home, "what": "ship",
                                 "ship_type": "Drone"}]}), "Orders")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: engine.post("/v1/turns/1"), range(8)))
    ran = [_ok(a, "TurnResult")["ran"] for a in answers]
    assert sorted(ran) == [False] * 7 + [True]
    assert _ok(engine.get("/v1/game"), "Game")["turn"] == 1
    report = _ok(engine.get("/v1/races/Vogons/reports/1"), "Report")
    assert [g["count"] for g in report["groups"]] == [report["groups"][0]["count"]]
    assert report["groups"][0]["count"] == 1000 // 10 - 1  # one turn of Drones, not two


def test_a_game_that_reached_its_turn_limit_is_over(engine):
    _ok(engine.post("/v1/game", {**INIT, "turn_limit": 2}), "Game", 201)
    _ok(engine.post("/v1/turns/1"), "TurnResult")
    last = _ok(engine.post("/v1/turns/2"), "TurnResult")["game"]
    assert (last["status"], last["next_turn"]) == ("finished", None)
    result = last["result"]
    assert (result["turn"], result["reason"]) == (2, "turn_limit")
    # nobody did anything: the three untouched empires tie and share the win
    assert result["winners"] == [{"race": m["race"], "user_id": m["user_id"]} for m in ROSTER]
    assert _ok(engine.get("/v1/health"), "Health")["game"] == {"turn": 2, "status": "finished"}
    assert _ok(engine.post("/v1/turns/2"), "TurnResult")["ran"] is False
    assert "over" in _error(engine.post("/v1/turns/3"), 409, "conflict")
    assert "over" in _error(engine.post("/v1/races/Vogons/orders", {"orders": []}), 409,
                            "conflict")
    _error(engine.post("/v1/races/Vogons/commands", {"command": "message", "text": "gg"}), 409,
           "conflict")
    report = _ok(engine.get("/v1/races/Zzyax/reports/2"), "Report")
    assert report["game"]["result"]["winners"] == [{"race": m["race"]} for m in ROSTER]


def test_commands_answer_at_once_and_bad_ones_are_400(engine):
    _ok(engine.post("/v1/game", INIT), "Game", 201)
    home = _home(engine, "Vogons")
    races = _ok(engine.post("/v1/races/Vogons/commands", {"command": "races"}), "CommandAnswer")
    assert [r["race"] for r in races["result"]["races"]] == ["Vogons", "Zzyax", "Camels"]
    far = _ok(engine.post("/v1/races/Vogons/commands",
                          {"command": "distance", "from": home, "to": _home(engine, "Zzyax"),
                           "ship_type": "Drone"}), "CommandAnswer")["result"]
    assert far["speed"] == 20 and far["turns"] == -(-far["distance"] // 20)
    sent = _ok(engine.post("/v1/races/Vogons/commands",
                           {"command": "message", "to": ["Zzyax"], "text": "hello"}),
               "CommandAnswer")
    assert sent["result"] == {"delivered_to": ["Zzyax"], "in_report": 1}
    _ok(engine.post("/v1/turns/1"), "TurnResult")
    zz = _ok(engine.get("/v1/races/Zzyax/reports/1"), "Report")
    assert zz["messages"] == [{"from": "Vogons", "turn": 0, "text": "hello"}]
    assert _ok(engine.get("/v1/races/Camels/reports/1"), "Report")["messages"] == []

    for body, needle in (
        ({"command": "teleport"}, "command.command: must be one of"),
        ({"command": "distance", "from": home}, "command.to: required"),
        ({"command": "message", "to": ["Nobody"], "text": "x"}, "no other race called Nobody"),
        ({"command": "evaluate_design", "drive": 1, "attacks": 2, "weapons": 0, "shields": 0,
          "cargo": 0}, "attacks and weapons must both be zero or both be positive"),
        ([1, 2], "command: must be an object"),
    ):
        assert needle in _error(engine.post("/v1/races/Vogons/commands", body), 400,
                                "invalid_request")


def test_integers_survive_exactly(engine):
    _ok(engine.post("/v1/game", {**INIT, "seed": BIG}), "Game", 201)
    design = {"op": "design", "name": "Ark", "drive": BIG, "attacks": 0, "weapons": 0,
              "shields": 0, "cargo": BIG}
    resp = engine.post("/v1/races/Vogons/orders", {"orders": [design]})
    assert resp.status_code == 200, resp.text
    assert f'"drive":{BIG}' in resp.text and f'"cargo":{BIG}' in resp.text
    assert resp.json()["orders"] == [design]
    assert engine.get("/v1/races/Vogons/orders").json()["orders"][0]["cargo"] == BIG
    resp = engine.post("/v1/races/Vogons/commands",
                       {"command": "evaluate_design", "drive": 5, "attacks": 0, "weapons": 0,
                        "shields": BIG, "cargo": 0})
    result = _ok(resp, "CommandAnswer")["result"]
    assert (result["shields"], result["mass"], result["cost"]) == (BIG, BIG + 5, 10 * (BIG + 5))
    assert f'"mass":{BIG + 5}' in resp.text
    _ok(engine.post("/v1/turns/1"), "TurnResult")
    report = _ok(engine.get("/v1/races/Vogons/reports/1"), "Report")
    assert report["designs"]["Ark"]["cargo"] == BIG
    assert report["designs"]["Ark"]["mass"] == 2 * BIG


def test_bad_requests_get_the_error_envelope(engine):
    _ok(engine.post("/v1/game", INIT), "Game", 201)
    raw = engine.request

    def send(method, path, content):  # bodies that json.dumps would not produce
        return httpx.request(method, engine.url + path, content=content, timeout=30)

    assert "not valid JSON" in _error(send("POST", "/v1/races/Vogons/orders", b"{orders"), 400,
                                      "invalid_request")
    assert "not valid JSON" in _error(send("POST", "/v1/races/Vogons/orders",
                                           b'{"orders": [], "turn": NaN}'), 400,
                                      "invalid_request")
    assert "larger than" in _error(send("POST", "/v1/races/Vogons/commands",
                                        b" " * (2 << 20)), 400, "invalid_request")
    _error(raw("GET", "/v1/nowhere"), 404, "not_found")
    _error(raw("DELETE", "/v1/game"), 405, "method_not_allowed")
    message = _error(engine.post("/v1/races/Vogons/orders", {"orders": "all"}), 400,
                     "invalid_request")
    assert message == "body.orders: must be a list of at most 500 items"


def test_init_is_validated(tmp_path):
    proc = EngineProcess(tmp_path / "state").start()
    try:
        message = _error(proc.post("/v1/game", {
            "seed": -1,
            "roster": [{"user_id": "a", "race": "Same"}, {"user_id": "a", "race": "Same"},
                       {"user_id": "b", "race": "no spaces"}],
        }), 400, "invalid_request")
        assert message == (
            "body.seed: must be at least 0; body.roster[2].race: must be 1 to 20 letters, "
            "digits or underscores; body.roster: user_id a appears more than once; "
            "body.roster: race Same appears more than once"
        )
        assert proc.get("/v1/health").json()["game"] is None
        assert not (tmp_path / "state" / "game.json").exists()
    finally:
        proc.stop()


def test_a_killed_engine_resumes_its_game_where_it_was(tmp_path):
    first = EngineProcess(tmp_path / "state").start()
    try:
        _ok(first.post("/v1/game", INIT), "Game", 201)
        home = _home(first, "Vogons")
        _ok(first.post("/v1/races/Vogons/orders",
                       {"orders": [{"op": "produce", "planet": home, "what": "ship",
                                    "ship_type": "Drone"}]}), "Orders")
        _ok(first.post("/v1/turns/1"), "TurnResult")
        reports = _reports(first, 1)
        drones = json.loads(reports["Vogons"])["groups"][0]
        # orders for turn 2 accepted before the crash must survive it
        send = [{"op": "send", "group": drones["id"], "to": _home(first, "Zzyax"), "count": 3}]
        _ok(first.post("/v1/races/Vogons/orders", {"orders": send, "final": True}), "Orders")
        first.kill()
    finally:
        first.stop()

    second = EngineProcess(tmp_path / "state").start()
    try:
        game = _ok(second.get("/v1/game"), "Game")
        assert game["turn"] == 1 and game["races"][0]["final"] is True
        assert _reports(second, 1) == reports
        assert _ok(second.post("/v1/turns/1"), "TurnResult")["ran"] is False
        assert _ok(second.post("/v1/turns/2"), "TurnResult")["ran"] is True
        report = _ok(second.get("/v1/races/Vogons/reports/2"), "Report")
        moving = [g for g in report["groups"] if g["destination"] is not None]
        assert [(g["count"], g["origin"]) for g in moving] == [(3, home)]
    finally:
        second.stop()


def test_sigterm_stops_the_engine_promptly_and_cleanly(tmp_path):
    proc = EngineProcess(tmp_path / "state").start()
    _ok(proc.post("/v1/game", INIT), "Game", 201)
    started = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(timeout=30) == 0
    assert time.monotonic() - started < 10  # the grace is for requests in flight; there are none
