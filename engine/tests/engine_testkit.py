"""Helpers for the engine's tests: games arranged directly in the state they need."""

from __future__ import annotations

from galaxy_engine.game import mapgen
from galaxy_engine.game.model import GameState, Group, Planet

ROSTER = [("Vogons", "user-1"), ("Zzyax", "user-2"), ("Camels", "user-3")]


def new_game(seed: int = 7, roster=ROSTER, turn_limit: int = 50) -> GameState:
    return mapgen.new_game(seed, list(roster), turn_limit)


def blank_game(races=("Vogons", "Zzyax"), planets: int = 4) -> GameState:
    """Races with home planets 1..n on a line 100 apart, and empty planets after them.

    Planet i (1-based) sits at x = 100 × (i - 1), y = 0, so distances are easy
    to reason about; tests move or rearrange planets as they need.
    """
    state = mapgen.new_game(1, [(r, f"user-{r}") for r in races], 50)
    state.planets = [
        Planet(id=i, name=f"P{i}", x=100 * (i - 1), y=0, size=500, resources=5)
        for i in range(1, planets + 1)
    ]
    for i, race in enumerate(races):
        p = state.planets[i]
        p.owner, p.population, p.industry = race, 1000, 1000
        p.size, p.resources = 1000, 10
    state.groups = []
    return state


def add_group(state: GameState, owner: str, ship_type: str, count: int, at: int, **kw) -> Group:
    g = Group(id=state.new_group_id(), owner=owner, ship_type=ship_type, count=count, at=at, **kw)
    state.groups.append(g)
    return g
