"""One turn of the game, phase by phase (docs/engine.md, "Turn order").

1. orders, race by race in roster order, each race's in the order given;
2. movement: groups in hyperspace fly; those that reach their destination land;
3. battles at every planet with enemies present;
4. bombing of planets left with armed enemies over them;
5. production, then population growth, on every inhabited planet;
6. eliminations, and the end of the game (one race left, or the turn limit).

`run_turn` mutates the state it is given; the caller passes a copy and keeps
the original until the new state is safely written.
"""

from __future__ import annotations

from galaxy_engine.game import combat, orders, report, rules
from galaxy_engine.game.model import GameState, Group, Production, RaceStatus


def run_turn(state: GameState) -> dict[str, dict]:
    """Advance `state` by one turn; every race's report for the new turn."""
    turn = state.turn + 1
    events = report.TurnEvents()
    for race in state.active_races():
        submitted = state.orders.get(race.name)
        for i, order in enumerate(submitted.orders if submitted else []):
            try:
                note = orders.execute(state, race.name, order)
                events.order_results[race.name].append(
                    {"index": i, "op": order["op"], "status": "done", "note": note})
            except orders.Rejected as reason:
                events.order_results[race.name].append(
                    {"index": i, "op": order["op"], "status": "skipped", "note": str(reason)})
    move(state)
    events.battles = combat.battles(state, turn)
    events.bombings = combat.bombings(state)
    for planet in state.planets:
        if planet.owner is not None and planet.population > 0:
            produce(state, planet)
            rules.grow(planet)
    _eliminate(state)
    state.turn = turn
    state.orders = {}
    _maybe_end(state)
    reports = {r.name: report.build(state, r.name, events) for r in state.races}
    state.inbox = {}
    return reports


def move(state: GameState) -> None:
    for g in state.groups:
        if g.at is not None:
            continue
        g.remaining -= rules.group_speed(state, g)
        if g.remaining <= 0:
            g.at, g.origin, g.destination, g.remaining = g.destination, None, None, 0


def produce(state: GameState, planet) -> None:
    """Spend the planet's production points on what it is set to produce."""
    points = rules.production_points(planet)
    if planet.production == Production.MATERIALS:
        planet.materials += points * planet.resources
        return
    if planet.production == Production.CAPITAL:
        made = rules.affordable(points, rules.CAPITAL_COST, 1, planet)
        planet.materials -= min(planet.materials, made)
        raised = min(made, max(0, planet.population - planet.industry))
        planet.industry += raised
        planet.capital += made - raised
        return
    design = state.design(planet.owner, planet.ship_type)
    mass = rules.ship_mass(design)
    budget = planet.progress + points
    built = rules.affordable(budget, rules.ship_cost(design), mass, planet)
    planet.progress = budget - rules.build_cost(built, rules.ship_cost(design), mass, planet)
    planet.materials -= min(planet.materials, built * mass)
    if built:
        _launch(state, planet.owner, planet.ship_type, built, planet.id)


def _launch(state: GameState, owner: str, ship_type: str, count: int, planet_id: int) -> None:
    """New ships join an empty group of their type at the planet, or form a new one."""
    for g in state.groups:
        if (g.owner, g.ship_type, g.at, g.load) == (owner, ship_type, planet_id, 0):
            g.count += count
            return
    state.groups.append(Group(id=state.new_group_id(), owner=owner, ship_type=ship_type,
                              count=count, at=planet_id))


def _eliminate(state: GameState) -> None:
    for race in state.active_races():
        has_planet = any(p.owner == race.name for p in state.planets)
        has_ship = any(g.owner == race.name for g in state.groups)
        if not (has_planet or has_ship):
            race.status = RaceStatus.ELIMINATED


def _maybe_end(state: GameState) -> None:
    """The game is over when one race (or none) is left of several, or at the turn limit."""
    active = state.active_races()
    if len(state.races) >= 2 and len(active) <= 1:
        winners, reason = active, "last_race_standing" if active else "no_race_left"
    elif state.turn >= state.turn_limit:
        best = max((rules.race_score(state, r.name) for r in active), default=0)
        winners = [r for r in active if rules.race_score(state, r.name) == best]
        reason = "turn_limit"
    else:
        return
    state.result = {
        "turn": state.turn,
        "reason": reason,
        "winners": [{"race": r.name, "user_id": r.user_id} for r in winners],
        "scores": [{"race": r.name, "score": rules.race_score(state, r.name)} for r in state.races],
    }
