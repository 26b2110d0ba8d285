"""What one race sees at the end of a turn (docs/engine.md, "Reports").

A race sees in full its own planets and groups. It observes (population,
industry, stockpiles, the ships there) every planet where it has a group,
and it sees the position, size, resources and owner of every planet within
VISIBILITY_RANGE of a planet it owns or has a group at. Alien groups heading
for one of its planets are reported with their distance, speed and mass, as
GalaxyNG's hyperspace detectors do. Battles and bombings are reported to the
races that took part and to the planet's owner.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from galaxy_engine.game import rules
from galaxy_engine.game.model import Design, GameState, Group, Planet


@dataclass
class TurnEvents:
    order_results: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    battles: list[dict] = field(default_factory=list)
    bombings: list[dict] = field(default_factory=list)


def build(state: GameState, race: str, events: TurnEvents) -> dict:
    own_planets = [p for p in state.planets if p.owner == race]
    own_groups = [g for g in state.groups if g.owner == race]
    observed = {p.id for p in own_planets} | {g.at for g in own_groups if g.at is not None}
    visible = {
        p.id for p in state.planets
        if any(rules.distance(p, state.planet(o)) <= rules.VISIBILITY_RANGE for o in observed)
    }
    planets = []
    for p in state.planets:
        if p.owner == race:
            planets.append({"view": "own", **_planet_full(p)})
        elif p.id in observed:
            planets.append({"view": "observed", **_planet_full(p)})
        elif p.id in visible:
            planets.append({"view": "distant", **_planet_outline(p)})
    alien_groups = [
        _alien_group(state, g) for g in state.groups
        if g.owner != race and g.at is not None and g.at in observed
    ]
    incoming = [
        _incoming(state, g) for g in state.groups
        if g.owner != race and g.at is None and state.planet(g.destination).owner == race
    ]
    me = state.race(race)
    return {
        "turn": state.turn,
        "race": race,
        "status": me.status,
        "game": {
            "turn_limit": state.turn_limit,
            "width": state.width,
            "height": state.height,
            "status": "finished" if state.result else "running",
            "result": public_result(state.result),
        },
        "races": [_race_status(state, r.name, r.status) for r in state.races],
        "designs": {name: design_view(d) for name, d in me.designs.items()},
        "planets": planets,
        "groups": [_own_group(state, g) for g in own_groups],
        "alien_groups": alien_groups,
        "incoming_groups": incoming,
        "battles": [
            b for b in events.battles
            if b["planet_owner"] == race or any(s["race"] == race for s in b["sides"])
        ],
        "bombings": [b for b in events.bombings if race in (b["owner"], b["bombed_by"])],
        "messages": list(state.inbox.get(race, [])),
        "order_results": list(events.order_results.get(race, [])),
    }


def public_result(result: dict | None) -> dict | None:
    """The result as players see it: winners by race name (user ids are runtime's business)."""
    if result is None:
        return None
    return {**result, "winners": [{"race": w["race"]} for w in result["winners"]]}


def design_view(d: Design) -> dict:
    """A design with what follows from it: mass, cost, speed, cargo capacity."""
    return {
        "drive": d.drive,
        "attacks": d.attacks,
        "weapons": d.weapons,
        "shields": d.shields,
        "cargo": d.cargo,
        "mass": rules.ship_mass(d),
        "cost": rules.ship_cost(d),
        "speed": rules.design_speed(d),
        "cargo_capacity": rules.cargo_capacity(d),
    }


def _planet_outline(p: Planet) -> dict:
    return {"id": p.id, "name": p.name, "x": p.x, "y": p.y, "size": p.size,
            "resources": p.resources, "owner": p.owner}


def _planet_full(p: Planet) -> dict:
    return {
        **_planet_outline(p),
        "population": p.population,
        "industry": p.industry,
        "capital": p.capital,
        "materials": p.materials,
        "colonists": p.colonists,
        "production": p.production,
        "ship_type": p.ship_type,
        "progress": p.progress,
        "production_points": rules.production_points(p) if p.population else 0,
    }


def _own_group(state: GameState, g: Group) -> dict:
    return {
        "id": g.id,
        "ship_type": g.ship_type,
        "count": g.count,
        "at": g.at,
        "origin": g.origin,
        "destination": g.destination,
        "remaining": g.remaining,
        "speed": rules.group_speed(state, g),
        "cargo": g.cargo,
        "load": g.load,
    }


def _alien_group(state: GameState, g: Group) -> dict:
    return {
        "owner": g.owner,
        "ship_type": g.ship_type,
        "design": design_view(state.design(g.owner, g.ship_type)),
        "count": g.count,
        "at": g.at,
        "cargo": g.cargo,
        "load": g.load,
    }


def _incoming(state: GameState, g: Group) -> dict:
    d = state.design(g.owner, g.ship_type)
    return {
        "owner": g.owner,
        "origin": g.origin,
        "destination": g.destination,
        "remaining": g.remaining,
        "speed": rules.group_speed(state, g),
        "mass": rules.ship_mass(d) * g.count + g.load,
    }


def _race_status(state: GameState, race: str, status: str) -> dict:
    planets = [p for p in state.planets if p.owner == race]
    return {
        "race": race,
        "status": status,
        "planets": len(planets),
        "population": sum(p.population for p in planets),
        "industry": sum(p.industry for p in planets),
        "score": rules.race_score(state, race),
    }
