"""The game's state: plain dataclasses that round-trip through JSON exactly.

Every number is a Python int (counts, coordinates, stockpiles), so a state
written and read back is identical and no value is ever rounded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum


class RaceStatus(StrEnum):
    ACTIVE = "active"
    ELIMINATED = "eliminated"


class Cargo(StrEnum):
    COLONISTS = "colonists"
    CAPITAL = "capital"
    MATERIALS = "materials"


class Production(StrEnum):
    CAPITAL = "capital"
    MATERIALS = "materials"
    SHIP = "ship"


@dataclass
class Design:
    """A ship type, GalaxyNG-style: drive, guns (attacks × weapons), shields, cargo bay."""

    drive: int
    attacks: int
    weapons: int
    shields: int
    cargo: int


@dataclass
class Race:
    name: str
    user_id: str
    status: str = RaceStatus.ACTIVE
    designs: dict[str, Design] = field(default_factory=dict)


@dataclass
class Planet:
    id: int
    name: str
    x: int
    y: int
    size: int
    resources: int
    owner: str | None = None
    population: int = 0
    industry: int = 0
    capital: int = 0
    materials: int = 0
    colonists: int = 0
    production: str = Production.CAPITAL
    ship_type: str | None = None
    #: production points carried towards the next ship
    progress: int = 0


@dataclass
class Group:
    """Ships of one race and one type that move together."""

    id: int
    owner: str
    ship_type: str
    count: int
    at: int | None
    origin: int | None = None
    destination: int | None = None
    remaining: int = 0
    cargo: str | None = None
    #: total cargo carried by the whole group
    load: int = 0


@dataclass
class RaceOrders:
    orders: list[dict] = field(default_factory=list)
    final: bool = False


@dataclass
class GameState:
    seed: int
    turn_limit: int
    width: int
    height: int
    races: list[Race]
    planets: list[Planet]
    groups: list[Group] = field(default_factory=list)
    turn: int = 0
    next_group_id: int = 1
    #: orders for the next turn (turn + 1), per race
    orders: dict[str, RaceOrders] = field(default_factory=dict)
    #: messages waiting for the recipient's next report
    inbox: dict[str, list[dict]] = field(default_factory=dict)
    #: None while the game runs; winners, reason and turn once it is over
    result: dict | None = None

    # ------------------------------------------------------------ look-ups

    def race(self, name: str) -> Race | None:
        return next((r for r in self.races if r.name == name), None)

    def planet(self, planet_id: int) -> Planet | None:
        if 1 <= planet_id <= len(self.planets):
            return self.planets[planet_id - 1]
        return None

    def group(self, group_id: int) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def design(self, owner: str, ship_type: str) -> Design:
        return self.race(owner).designs[ship_type]

    def active_races(self) -> list[Race]:
        return [r for r in self.races if r.status == RaceStatus.ACTIVE]

    def new_group_id(self) -> int:
        self.next_group_id += 1
        return self.next_group_id - 1

    # ------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GameState:
        races = [
            Race(
                name=r["name"],
                user_id=r["user_id"],
                status=r["status"],
                designs={n: Design(**d) for n, d in r["designs"].items()},
            )
            for r in data["races"]
        ]
        return cls(
            seed=data["seed"],
            turn_limit=data["turn_limit"],
            width=data["width"],
            height=data["height"],
            races=races,
            planets=[Planet(**p) for p in data["planets"]],
            groups=[Group(**g) for g in data["groups"]],
            turn=data["turn"],
            next_group_id=data["next_group_id"],
            orders={k: RaceOrders(**v) for k, v in data["orders"].items()},
            inbox={k: list(v) for k, v in data["inbox"].items()},
            result=data["result"],
        )

    def copy(self) -> GameState:
        return GameState.from_dict(self.to_dict())
