"""The game's numbers and formulas, all in integer arithmetic (docs/engine.md, "Rules").

Inspired by GalaxyNG, simplified: no technology levels (every race builds at
level 1), so a design's numbers are its whole strength.
"""

from __future__ import annotations

import hashlib
import math
import random

from galaxy_engine.game.model import Design, GameState, Group, Planet

#: Home planet at the start: fully populated and industrialised, rich.
HOME_SIZE = 1000
HOME_RESOURCES = 10
#: Other planets: size and natural resources drawn from these ranges.
PLANET_SIZE_RANGE = (10, 800)
PLANET_RESOURCES_RANGE = (1, 10)
#: Planets per race on the map, and a few more.
PLANETS_PER_RACE = 7
EXTRA_PLANETS = 3
#: Map side per race (the map is a square of side MAP_SIDE_PER_RACE × ceil(√races) + MAP_MARGIN).
MAP_SIDE_PER_RACE = 80
MAP_MARGIN = 40
#: No two home planets closer than this; no two planets closer than MIN_PLANET_GAP.
MIN_HOME_DISTANCE = 50
MIN_PLANET_GAP = 6

#: A race sees the planets within this distance of its planets and of its groups at planets.
VISIBILITY_RANGE = 40

#: Population grows by this percentage per turn, up to the planet's size; every
#: COLONISTS_PER_UNIT people above the size become one unit of colonists.
GROWTH_PERCENT = 8
COLONISTS_PER_UNIT = 8

#: Production points per unit of capital, per unit of ship mass.
CAPITAL_COST = 5
SHIP_COST_PER_MASS = 10

#: Movement: a ship flies SPEED_FACTOR × drive ÷ mass per turn.
SPEED_FACTOR = 20

#: Combat: shields are diluted by the cube root of the target's mass relative to this mass.
SHIELD_REFERENCE_MASS = 30
MAX_BATTLE_ROUNDS = 50

DEFAULT_TURN_LIMIT = 50

#: The designs every race starts with (it may add its own with a `design` order).
STANDARD_DESIGNS: dict[str, Design] = {
    "Drone": Design(drive=1, attacks=0, weapons=0, shields=0, cargo=0),
    "Fighter": Design(drive=4, attacks=1, weapons=2, shields=2, cargo=0),
    "Freighter": Design(drive=4, attacks=0, weapons=0, shields=1, cargo=5),
    "Cruiser": Design(drive=15, attacks=1, weapons=15, shields=15, cargo=0),
}


# ------------------------------------------------------------------ randomness


def rng_for(seed: int, *scope: object) -> random.Random:
    """A generator determined by the game's seed and a scope (e.g. turn and planet).

    Derived by hashing, so each phase's draws are independent of every other
    phase's and a re-run turn draws exactly the same numbers.
    """
    key = ":".join(str(part) for part in (seed, *scope)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest(), "big"))


# ------------------------------------------------------------------ geometry


def distance(a: Planet, b: Planet) -> int:
    """Euclidean distance, rounded up to a whole light-year."""
    squared = (a.x - b.x) ** 2 + (a.y - b.y) ** 2
    return 0 if squared == 0 else math.isqrt(squared - 1) + 1


# ------------------------------------------------------------------ ships


def ship_mass(d: Design) -> int:
    return d.drive + d.attacks * d.weapons + d.shields + d.cargo


def design_problem(d: Design) -> str | None:
    """Why a design cannot be built, or None: guns need both attacks and weapons, and mass."""
    if (d.attacks == 0) != (d.weapons == 0):
        return "attacks and weapons must both be zero or both be positive"
    if ship_mass(d) < 1:
        return "a ship needs a mass of at least 1"
    return None


def ship_cost(d: Design) -> int:
    """Production points to build one ship (materials come on top, see `build_cost`)."""
    return SHIP_COST_PER_MASS * ship_mass(d)


def cargo_capacity(d: Design) -> int:
    """Cargo one ship holds: cargo + cargo²/10 (GalaxyNG's bigger-bays-are-better rule)."""
    return d.cargo + d.cargo * d.cargo // 10


def group_speed(state: GameState, g: Group) -> int:
    """Light-years per turn of the whole group, slowed by the cargo it carries."""
    d = state.design(g.owner, g.ship_type)
    total_mass = ship_mass(d) * g.count + g.load
    return SPEED_FACTOR * d.drive * g.count // total_mass


def design_speed(d: Design) -> int:
    return SPEED_FACTOR * d.drive // ship_mass(d)


def kill_odds(weapons: int, target_shields: int, target_mass: int) -> tuple[int, int]:
    """A shot kills with probability hits / (hits + misses), as two exact integers.

    GalaxyNG compares attack with shields diluted by the cube root of the
    target's mass; cubing both sides keeps that comparison in integers:
    weapons³·mass against shields³·SHIELD_REFERENCE_MASS. Equal ships of
    mass 30 kill each other with probability one half.
    """
    hits = weapons**3 * target_mass
    misses = target_shields**3 * SHIELD_REFERENCE_MASS
    return hits, misses


# ------------------------------------------------------------------ production


def production_points(p: Planet) -> int:
    """Industry counts fully, population above industry a quarter."""
    return p.industry + max(0, p.population - p.industry) // 4


def material_points(missing: int, resources: int) -> int:
    """Points spent mining `missing` materials: one point yields `resources` of them."""
    return 0 if missing <= 0 else -(-missing // resources)


def build_cost(count: int, unit_points: int, unit_materials: int, p: Planet) -> int:
    """Points to produce `count` units, mining what the materials stockpile lacks."""
    missing = count * unit_materials - p.materials
    return count * unit_points + material_points(missing, p.resources)


def affordable(budget: int, unit_points: int, unit_materials: int, p: Planet) -> int:
    """The largest count whose `build_cost` fits the budget (cost is monotonic: bisect)."""
    lo, hi = 0, budget // unit_points
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if build_cost(mid, unit_points, unit_materials, p) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def grow(p: Planet) -> None:
    """Population growth, overflow into colonists, stockpiled capital into industry."""
    if p.population <= 0:
        return
    grown = p.population + p.population * GROWTH_PERCENT // 100
    if grown > p.size:
        p.colonists += (grown - p.size) // COLONISTS_PER_UNIT
        grown = p.size
    p.population = grown
    if p.capital and p.industry < p.population:
        used = min(p.capital, p.population - p.industry)
        p.industry += used
        p.capital -= used


def race_score(state: GameState, race: str) -> int:
    """Population plus industry of the race's planets (decides a game that hits its turn limit)."""
    return sum(p.population + p.industry for p in state.planets if p.owner == race)
