"""The game's rules, one at a time, on states arranged directly."""

from __future__ import annotations

import json

import pytest
from engine_testkit import ROSTER, add_group, blank_game, new_game
from galaxy_engine.errors import InvalidRequest
from galaxy_engine.game import combat, orders, report, rules
from galaxy_engine.game.model import Design, RaceOrders
from galaxy_engine.game.turn import move, produce, run_turn


def submit(state, race, batch):
    """What the engine does on submission: parse, check against the state, store."""
    parsed = orders.parse_batch(batch)
    orders.check_batch(state, race, parsed)
    state.orders[race] = RaceOrders(orders=parsed)


# ------------------------------------------------------------------ the map


def test_new_game_gives_each_race_a_full_home_planet_and_empty_planets_elsewhere():
    state = new_game()
    homes = [p for p in state.planets if p.owner]
    assert [p.owner for p in homes] == [r for r, _ in ROSTER]
    for p in homes:
        assert (p.size, p.population, p.industry, p.resources) == (1000, 1000, 1000, 10)
    others = [p for p in state.planets if not p.owner]
    assert len(others) == rules.PLANETS_PER_RACE * 3 + rules.EXTRA_PLANETS
    assert all(p.population == 0 for p in others)
    for a in homes:
        for b in homes:
            if a is not b:
                assert rules.distance(a, b) >= rules.MIN_HOME_DISTANCE
    assert all(0 <= p.x < state.width and 0 <= p.y < state.height for p in state.planets)


def test_the_map_is_a_function_of_the_seed():
    assert new_game(seed=5).to_dict() == new_game(seed=5).to_dict()
    assert new_game(seed=5).to_dict()["planets"] != new_game(seed=6).to_dict()["planets"]


# ------------------------------------------------------------------ production


def test_production_points_count_population_above_industry_by_a_quarter():
    state = blank_game()
    p = state.planets[0]
    p.population, p.industry = 500, 250
    assert rules.production_points(p) == 250 + 250 // 4


def test_capital_raises_industry_up_to_population_then_stockpiles():
    state = blank_game()
    p = state.planets[0]
    p.population, p.industry, p.materials = 1000, 900, 10_000
    produce(state, p)
    # 900 + 100/4 = 925 points → 185 capital (materials in stock): 100 raise industry, 85 kept
    assert (p.industry, p.capital, p.materials) == (1000, 85, 10_000 - 185)


def test_materials_production_yields_resources_per_point():
    state = blank_game()
    p = state.planets[0]
    p.production, p.resources = "materials", 7
    produce(state, p)
    assert p.materials == 1000 * 7


def test_ships_are_built_from_points_and_materials_and_the_rest_carries_over():
    state = blank_game()
    p = state.planets[0]
    p.production, p.ship_type, p.materials = "ship", "Cruiser", 0
    produce(state, p)
    # a Cruiser: mass 45, 450 points + 45 materials mined at 10 per point (5 points)
    # two cost 2×450 + ceil(90/10) = 909 of 1000 points; 91 carried to the next turn
    fleet = [g for g in state.groups if g.owner == "Vogons"]
    assert [(g.ship_type, g.count, g.at) for g in fleet] == [("Cruiser", 2, 1)]
    assert p.progress == 91
    produce(state, p)
    assert fleet[0].count == 4 and p.progress == 182  # new ships join the docked group


def test_growth_is_eight_percent_and_overflow_becomes_colonists():
    state = blank_game()
    p = state.planets[2]
    p.population, p.size = 100, 1000
    rules.grow(p)
    assert p.population == 108
    home = state.planets[0]
    rules.grow(home)
    assert (home.population, home.colonists) == (1000, 80 // rules.COLONISTS_PER_UNIT)


def test_stockpiled_capital_raises_industry_as_population_grows():
    state = blank_game()
    p = state.planets[2]
    p.owner, p.population, p.industry, p.capital = "Vogons", 200, 200, 100
    rules.grow(p)
    assert (p.population, p.industry, p.capital) == (216, 216, 84)


# ------------------------------------------------------------------ movement


def test_a_sent_group_arrives_after_distance_over_speed_turns():
    state = blank_game()
    g = add_group(state, "Vogons", "Fighter", 3, at=1)  # speed 20×4/8 = 10
    orders.execute(state, "Vogons", {"op": "send", "group": g.id, "to": 3})  # 200 away
    assert (g.at, g.origin, g.destination, g.remaining) == (None, 1, 3, 200)
    for _ in range(19):
        move(state)
    assert g.at is None and g.remaining == 10
    move(state)
    assert (g.at, g.destination, g.remaining) == (3, None, 0)


def test_cargo_slows_a_group_down():
    state = blank_game()
    g = add_group(state, "Vogons", "Freighter", 2, at=1)
    assert rules.group_speed(state, g) == 20 * 4 // 10
    g.cargo, g.load = "materials", 14  # 2 × mass 10 + 14 cargo
    assert rules.group_speed(state, g) == 20 * 4 * 2 // 34


def test_sending_part_of_a_group_splits_it():
    state = blank_game()
    g = add_group(state, "Vogons", "Freighter", 4, at=1, cargo="capital", load=28)
    note = orders.execute(state, "Vogons", {"op": "send", "group": g.id, "to": 2, "count": 1})
    part = state.groups[-1]
    assert part.id != g.id and note == f"group {part.id} sent to planet 2"
    assert (g.count, g.load, g.at) == (3, 21, 1)
    assert (part.count, part.load, part.cargo, part.destination) == (1, 7, "capital", 2)


# ------------------------------------------------------------------ colonisation


def test_colonists_carried_to_an_empty_planet_settle_it():
    state = blank_game()
    home = state.planets[0]
    home.colonists = 10
    g = add_group(state, "Vogons", "Freighter", 1, at=1)  # carries 5 + 25/10 = 7
    orders.execute(state, "Vogons", {"op": "load", "group": g.id, "cargo": "colonists"})
    assert (g.load, home.colonists) == (7, 3)
    g.at = 3
    orders.execute(state, "Vogons", {"op": "unload", "group": g.id})
    p = state.planets[2]
    assert (p.owner, p.population, g.load, g.cargo) == ("Vogons", 7 * 8, 0, None)


def test_unloading_on_another_races_planet_is_refused():
    state = blank_game()
    g = add_group(state, "Vogons", "Freighter", 1, at=2, cargo="colonists", load=3)
    with pytest.raises(orders.Rejected, match="belongs to another race"):
        orders.execute(state, "Vogons", {"op": "unload", "group": g.id})


# ------------------------------------------------------------------ combat


def test_kill_odds_are_even_between_equal_ships_of_mass_30():
    hits, misses = rules.kill_odds(10, 10, 30)
    assert hits == misses
    assert rules.kill_odds(2, 0, 8)[1] == 0  # no shields: every shot kills


def test_armed_ships_destroy_unarmed_enemies_and_take_the_planet():
    state = blank_game()
    add_group(state, "Vogons", "Fighter", 2, at=2)
    add_group(state, "Zzyax", "Drone", 5, at=2)
    records = combat.battles(state, 1)
    assert len(records) == 1
    battle = records[0]
    assert battle["winner"] == "Vogons"
    sides = {s["race"]: s["groups"][0] for s in battle["sides"]}
    assert (sides["Zzyax"]["ships_before"], sides["Zzyax"]["ships_after"]) == (5, 0)
    assert sides["Vogons"]["ships_after"] == 2
    assert [g.owner for g in state.groups] == ["Vogons"]
    bombed = combat.bombings(state)
    planet = state.planets[1]
    assert [b["bombed_by"] for b in bombed] == ["Vogons"]
    assert (planet.owner, planet.population, planet.industry) == ("Vogons", 250, 250)


def test_unarmed_ships_of_two_races_do_not_fight():
    state = blank_game()
    add_group(state, "Vogons", "Drone", 1, at=3)
    add_group(state, "Zzyax", "Drone", 1, at=3)
    assert combat.battles(state, 1) == []
    assert len(state.groups) == 2


def test_a_planet_defended_by_armed_ships_is_not_bombed():
    state = blank_game()
    add_group(state, "Vogons", "Cruiser", 1, at=2)
    add_group(state, "Zzyax", "Cruiser", 50, at=2)
    combat.battles(state, 1)
    assert [g.owner for g in state.groups] == ["Zzyax"]  # 50 to 1: the lone Cruiser falls
    state.groups.append(state.groups[0])  # (same group twice: still only Zzyax armed)
    assert combat.bombings(state) == []  # the owner's own ships are not hostile


def test_the_stronger_fleet_wins_and_battles_repeat_exactly():
    def fight(seed):
        state = blank_game()
        state.seed = seed
        add_group(state, "Vogons", "Cruiser", 10, at=3)
        add_group(state, "Zzyax", "Fighter", 10, at=3)
        return combat.battles(state, 4)

    assert fight(1) == fight(1)
    assert fight(1)[0]["winner"] == "Vogons"


# ------------------------------------------------------------------ visibility


def test_a_race_sees_what_is_near_and_observes_where_its_ships_are():
    state = blank_game(planets=5)
    state.planets[2].x = 30  # planet 3 is 30 from home: visible, not observed
    state.planets[3].x = 130  # planet 4: 30 from Zzyax's home, 130 from Vogons'
    add_group(state, "Vogons", "Drone", 1, at=2)  # Vogons observe Zzyax's home
    add_group(state, "Zzyax", "Fighter", 4, at=2)
    add_group(state, "Zzyax", "Fighter", 1, at=4)  # at a planet Vogons see but do not observe
    incoming = add_group(state, "Zzyax", "Drone", 1, at=None, origin=2, destination=1,
                         remaining=60)
    r = report.build(state, "Vogons", report.TurnEvents())
    views = {p["id"]: p["view"] for p in r["planets"]}
    assert views == {1: "own", 2: "observed", 3: "distant", 4: "distant"}  # planet 5 is 400 away
    assert "population" not in next(p for p in r["planets"] if p["id"] == 3)
    assert next(p for p in r["planets"] if p["id"] == 2)["population"] == 1000
    assert [(g["owner"], g["count"], g["at"]) for g in r["alien_groups"]] == [("Zzyax", 4, 2)]
    assert [(g["owner"], g["remaining"]) for g in r["incoming_groups"]] == [("Zzyax", 60)]
    assert incoming.id not in {g["id"] for g in r["groups"]}
    zz = report.build(state, "Zzyax", report.TurnEvents())
    assert {p["id"] for p in zz["planets"] if p["view"] == "own"} == {2}
    assert [g["count"] for g in zz["groups"]] == [4, 1, 1]


def test_battles_are_reported_to_those_who_fought_and_the_planets_owner_only():
    def seen_by(owner_of_battlefield):
        state = blank_game(races=("Vogons", "Zzyax", "Camels"), planets=5)
        add_group(state, "Vogons", "Fighter", 2, at=4)
        add_group(state, "Zzyax", "Drone", 2, at=4)
        if owner_of_battlefield:
            state.planets[3].owner, state.planets[3].population = owner_of_battlefield, 100
        events = report.TurnEvents(battles=combat.battles(state, 1))
        return {race: len(report.build(state, race, events)["battles"])
                for race in ("Vogons", "Zzyax", "Camels")}

    assert seen_by("Camels") == {"Vogons": 1, "Zzyax": 1, "Camels": 1}
    assert seen_by(None) == {"Vogons": 1, "Zzyax": 1, "Camels": 0}


# ------------------------------------------------------------------ orders


def test_an_invalid_batch_names_every_bad_order_and_changes_nothing():
    state = new_game()
    before = json.dumps(state.to_dict())
    batch = orders.parse_batch([
        {"op": "produce", "planet": 2, "what": "capital"},  # Zzyax's home
        {"op": "send", "group": 99, "to": 1},
        {"op": "produce", "planet": 1, "what": "ship", "ship_type": "Nope"},
    ])
    with pytest.raises(InvalidRequest) as err:
        orders.check_batch(state, "Vogons", batch)
    assert err.value.message == (
        "orders[0] (produce): planet 2 is not yours; "
        "orders[1] (send): you have no group 99; "
        "orders[2] (produce): you have no ship type Nope"
    )
    assert json.dumps(state.to_dict()) == before


def test_order_shapes_are_exact():
    with pytest.raises(InvalidRequest) as err:
        orders.parse_batch([
            {"op": "send", "group": 1.0, "to": 2},
            {"op": "send", "group": True, "to": 2, "speed": 3},
            {"op": "warp"},
            "send",
        ])
    assert err.value.message == (
        "orders[0].group: must be an integer; "
        "orders[1].group: must be an integer; orders[1].speed: unknown field; "
        "orders[2].op: must be one of design, produce, send, load, unload, rename_planet; "
        "orders[3]: must be an object"
    )


def test_a_design_made_in_a_batch_can_be_produced_in_the_same_batch():
    state = new_game()
    submit(state, "Vogons", [
        {"op": "design", "name": "Probe", "drive": 2, "attacks": 0, "weapons": 0, "shields": 0,
         "cargo": 0},
        {"op": "produce", "planet": 1, "what": "ship", "ship_type": "Probe"},
    ])
    run_turn(state)
    probes = [g for g in state.groups if g.ship_type == "Probe"]
    assert probes and probes[0].count == 1000 // 20 - 1  # 20 points + ⅕ point of materials each


def test_a_design_needs_mass_and_matching_guns():
    state = new_game()
    for parts, reason in (((0, 0, 0, 0, 0), "mass of at least 1"),
                          ((1, 2, 0, 0, 0), "both be zero or both be positive")):
        d = dict(zip(("drive", "attacks", "weapons", "shields", "cargo"), parts))
        with pytest.raises(InvalidRequest, match=reason):
            submit(state, "Vogons", [{"op": "design", "name": "X", **d}])


def test_a_huge_design_is_kept_exactly_and_simply_never_finished():
    state = new_game()
    big = 2**53 + 1
    submit(state, "Vogons", [
        {"op": "design", "name": "Ark", "drive": 1, "attacks": 0, "weapons": 0, "shields": 0,
         "cargo": big},
        {"op": "produce", "planet": 1, "what": "ship", "ship_type": "Ark"},
    ])
    run_turn(state)
    assert state.race("Vogons").designs["Ark"] == Design(1, 0, 0, 0, big)
    assert not [g for g in state.groups if g.ship_type == "Ark"]
    assert state.planets[0].progress == 1000
    again = type(state).from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.race("Vogons").designs["Ark"].cargo == big


def test_orders_made_impossible_by_an_earlier_race_are_skipped_and_reported():
    state = blank_game(planets=3)
    for race in ("Vogons", "Zzyax"):
        add_group(state, race, "Freighter", 1, at=3, cargo="colonists", load=2)
    submit(state, "Vogons", [{"op": "unload", "group": 1}])
    submit(state, "Zzyax", [{"op": "unload", "group": 2}])
    reports = run_turn(state)
    assert state.planets[2].owner == "Vogons"  # first in the roster settles first
    assert reports["Zzyax"]["order_results"] == [
        {"index": 0, "op": "unload", "status": "skipped",
         "note": "planet 3 belongs to another race"}]


# ------------------------------------------------------------------ whole turns


def _play(seed: int, turns: int) -> list[dict]:
    state = new_game(seed=seed)
    out = []
    for turn in range(1, turns + 1):
        if turn == 1:
            for race, _ in ROSTER:
                home = next(p for p in state.planets if p.owner == race)
                submit(state, race, [{"op": "produce", "planet": home.id, "what": "ship",
                                      "ship_type": "Fighter"}])
        if turn == 2:
            target = next(p for p in state.planets if p.owner == "Zzyax")
            submit(state, "Vogons", [{"op": "send", "group": 1, "to": target.id}])
        out.append(run_turn(state))
    return out


def test_same_seed_and_orders_give_identical_reports():
    first, second = _play(11, 30), _play(11, 30)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert any(r["Vogons"]["battles"] for r in first)  # the game really came to blows
    assert json.dumps(_play(12, 3)) != json.dumps(first[:3])


def test_the_game_ends_when_one_race_is_left():
    state = blank_game(planets=3)
    state.planets[1].owner, state.planets[1].population = None, 0  # Zzyax has lost its home
    add_group(state, "Zzyax", "Drone", 1, at=1)
    add_group(state, "Vogons", "Fighter", 5, at=1)
    reports = run_turn(state)
    assert state.race("Zzyax").status == "eliminated"
    assert state.result["reason"] == "last_race_standing"
    assert state.result["winners"] == [{"race": "Vogons", "user_id": "user-Vogons"}]
    assert reports["Zzyax"]["game"]["status"] == "finished"
    # players learn who won by race; user ids stay between engine and runtime
    assert reports["Zzyax"]["game"]["result"]["winners"] == [{"race": "Vogons"}]


def test_the_game_ends_at_its_turn_limit_with_the_best_score_winning():
    state = blank_game(planets=3)
    state.turn_limit = 2
    state.planets[1].industry = 10
    run_turn(state)
    assert state.result is None
    run_turn(state)
    assert state.result["reason"] == "turn_limit"
    assert [w["race"] for w in state.result["winners"]] == ["Vogons"]


def test_a_conquest_played_turn_by_turn_ends_the_game():
    """Build, fly, fight, bomb: Zzyax, which never builds, loses its only planet and the game."""
    state = blank_game(planets=3)
    submit(state, "Vogons", [{"op": "produce", "planet": 1, "what": "ship", "ship_type": "Fighter"}])
    run_turn(state)
    fighters = next(g for g in state.groups if g.owner == "Vogons")
    submit(state, "Vogons", [{"op": "send", "group": fighters.id, "to": 2}])
    turns = 0
    while state.result is None:
        reports = run_turn(state)
        turns += 1
        assert turns <= 10, "the fighters (speed 10) cover the 100 light-years in 10 turns"
    assert turns == 10
    assert reports["Zzyax"]["bombings"] == [{
        "planet": 2, "planet_name": "P2", "owner": "Zzyax", "bombed_by": "Vogons",
        "population_before": 1000, "industry_before": 1000,
        "population_after": 250, "industry_after": 250, "new_owner": "Vogons",
    }]
    assert state.planets[1].owner == "Vogons"
    assert state.race("Zzyax").status == "eliminated"
    assert state.result["reason"] == "last_race_standing"
    # the conquered planet is Vogons' own now, and Zzyax sees its loss
    assert {p["id"]: p["view"] for p in reports["Vogons"]["planets"]}[2] == "own"
    assert reports["Zzyax"]["status"] == "eliminated" and reports["Zzyax"]["planets"] == []
