"""Battles at planets and the bombing of undefended planets.

A battle is fought wherever ships of two or more races stand at one planet
and at least one of them is armed (every race is at war with every other).
Each round every surviving armed ship, in a random order, fires each of its
guns at a random enemy ship; a ship destroyed before its turn does not fire.
The battle ends when one race is left, when no armed ship is left, or after
MAX_BATTLE_ROUNDS rounds.
"""

from __future__ import annotations

from galaxy_engine.game import rules
from galaxy_engine.game.model import GameState, Group, Planet, Production


def battles(state: GameState, turn: int) -> list[dict]:
    """Fight every battle of this turn, planet by planet; the battles' records."""
    records = []
    for planet in state.planets:
        present = [g for g in state.groups if g.at == planet.id and g.count > 0]
        owners = {g.owner for g in present}
        armed = any(state.design(g.owner, g.ship_type).attacks for g in present)
        if len(owners) >= 2 and armed:
            records.append(_fight(state, turn, planet, present))
    state.groups = [g for g in state.groups if g.count > 0]
    return records


def _fight(state: GameState, turn: int, planet: Planet, groups: list[Group]) -> dict:
    rng = rules.rng_for(state.seed, "battle", turn, planet.id)
    order = [r.name for r in state.races]
    groups = sorted(groups, key=lambda g: (order.index(g.owner), g.id))
    before = {g.id: g.count for g in groups}
    ships: list[Group] = [g for g in groups for _ in range(g.count)]
    alive_by_race: dict[str, list[int]] = {}
    for i, g in enumerate(ships):
        alive_by_race.setdefault(g.owner, []).append(i)
    alive = [True] * len(ships)

    def random_enemy(race: str) -> int | None:
        pools = [alive_by_race[r] for r in order if r != race and alive_by_race.get(r)]
        total = sum(len(p) for p in pools)
        if total == 0:
            return None
        pick = rng.randrange(total)
        for pool in pools:
            if pick < len(pool):
                return pool[pick]
            pick -= len(pool)
        raise AssertionError("unreachable")

    rounds = 0
    while rounds < rules.MAX_BATTLE_ROUNDS:
        standing = [r for r in order if alive_by_race.get(r)]
        shooters = [
            i for i, g in enumerate(ships)
            if alive[i] and state.design(g.owner, g.ship_type).attacks
        ]
        if len(standing) < 2 or not shooters:
            break
        rounds += 1
        rng.shuffle(shooters)
        for i in shooters:
            if not alive[i]:
                continue
            attacker = state.design(ships[i].owner, ships[i].ship_type)
            for _ in range(attacker.attacks):
                j = random_enemy(ships[i].owner)
                if j is None:
                    break
                target = ships[j]
                d = state.design(target.owner, target.ship_type)
                mass = rules.ship_mass(d) + target.load // target.count
                hits, misses = rules.kill_odds(attacker.weapons, d.shields, mass)
                if rng.randrange(hits + misses) < hits:
                    alive[j] = False
                    alive_by_race[target.owner].remove(j)

    survivors = {g.id: 0 for g in groups}
    for i, g in enumerate(ships):
        survivors[g.id] += alive[i]
    for g in groups:
        if survivors[g.id] < g.count:
            g.load = g.load * survivors[g.id] // g.count
            g.count = survivors[g.id]
            if g.load == 0:
                g.cargo = None
    standing = [r for r in order if alive_by_race.get(r)]
    sides = []
    for race in dict.fromkeys(g.owner for g in groups):
        sides.append({
            "race": race,
            "groups": [
                {
                    "ship_type": g.ship_type,
                    "design": _design_view(state, g),
                    "ships_before": before[g.id],
                    "ships_after": g.count,
                }
                for g in groups if g.owner == race
            ],
        })
    return {
        "planet": planet.id,
        "planet_name": planet.name,
        "planet_owner": planet.owner,
        "rounds": rounds,
        "sides": sides,
        "winner": standing[0] if len(standing) == 1 else None,
    }


def _design_view(state: GameState, g: Group) -> dict:
    d = state.design(g.owner, g.ship_type)
    return {"drive": d.drive, "attacks": d.attacks, "weapons": d.weapons, "shields": d.shields,
            "cargo": d.cargo}


def bombings(state: GameState) -> list[dict]:
    """Armed enemy ships over a planet whose owner has no armed ship there bomb it.

    Population and industry fall to a quarter, and the planet passes to the
    first race (in roster order) with armed ships there; bombed down to no
    population, it is left uninhabited.
    """
    order = [r.name for r in state.races]
    records = []
    for planet in state.planets:
        if planet.owner is None:
            continue
        armed = {
            g.owner for g in state.groups
            if g.at == planet.id and state.design(g.owner, g.ship_type).attacks
        }
        if not armed or planet.owner in armed:
            continue
        conqueror = min(armed, key=order.index)
        records.append({
            "planet": planet.id,
            "planet_name": planet.name,
            "owner": planet.owner,
            "bombed_by": conqueror,
            "population_before": planet.population,
            "industry_before": planet.industry,
        })
        planet.population //= 4
        planet.industry //= 4
        planet.owner = conqueror if planet.population > 0 else None
        planet.production, planet.ship_type, planet.progress = Production.CAPITAL, None, 0
        records[-1].update(population_after=planet.population, industry_after=planet.industry,
                           new_owner=planet.owner)
    return records
