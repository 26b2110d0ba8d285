"""A new game from its seed and roster: the map and every race's home planet."""

from __future__ import annotations

import dataclasses
import math

from galaxy_engine.game import rules
from galaxy_engine.game.model import GameState, Planet, Race


def new_game(seed: int, roster: list[tuple[str, str]], turn_limit: int) -> GameState:
    """The state at turn 0. Same seed and roster → the same map, planet for planet.

    `roster` is (race name, user id) in the order runtime gave it; that order
    is the races' order everywhere (it breaks ties when two orders collide).
    """
    rng = rules.rng_for(seed, "map")
    side = rules.MAP_SIDE_PER_RACE * math.isqrt(max(len(roster) - 1, 0)) + rules.MAP_SIDE_PER_RACE
    side += rules.MAP_MARGIN
    spots: list[tuple[int, int]] = []

    def place(min_gap: int) -> tuple[int, int]:
        # Rejection sampling on a map sized so that it always succeeds quickly;
        # the gap shrinks if it ever does not, so a start never fails.
        gap = min_gap
        while True:
            for _ in range(200):
                x, y = rng.randrange(side), rng.randrange(side)
                if all((x - a) ** 2 + (y - b) ** 2 >= gap * gap for a, b in spots):
                    spots.append((x, y))
                    return x, y
            gap = max(1, gap * 3 // 4)

    planets: list[Planet] = []
    races: list[Race] = []
    for name, user_id in roster:
        x, y = place(rules.MIN_HOME_DISTANCE)
        planets.append(
            Planet(
                id=len(planets) + 1,
                name=f"{name}_Home",
                x=x,
                y=y,
                size=rules.HOME_SIZE,
                resources=rules.HOME_RESOURCES,
                owner=name,
                population=rules.HOME_SIZE,
                industry=rules.HOME_SIZE,
            )
        )
        designs = {n: dataclasses.replace(d) for n, d in rules.STANDARD_DESIGNS.items()}
        races.append(Race(name=name, user_id=user_id, designs=designs))
    for _ in range(rules.PLANETS_PER_RACE * len(roster) + rules.EXTRA_PLANETS):
        x, y = place(rules.MIN_PLANET_GAP)
        planet_id = len(planets) + 1
        planets.append(
            Planet(
                id=planet_id,
                name=f"P{planet_id}",
                x=x,
                y=y,
                size=rng.randint(*rules.PLANET_SIZE_RANGE),
                resources=rng.randint(*rules.PLANET_RESOURCES_RANGE),
            )
        )
    return GameState(
        seed=seed, turn_limit=turn_limit, width=side, height=side, races=races, planets=planets
    )
