"""A race's orders for a turn: parsed and checked when submitted, executed when the turn runs.

There is one code path for both: submitting a batch executes it on a scratch
copy of the current state and refuses the whole batch if any order would be
rejected, so what was accepted is exactly what the turn will try. When the
turn runs, the same execution may still skip an order that another race's
orders made impossible (two races colonising one planet); the race's report
then lists it under `order_results`.
"""

from __future__ import annotations

from galaxy_engine.errors import InvalidRequest
from galaxy_engine.game import rules
from galaxy_engine.game.model import Cargo, Design, GameState, Group, Production
from galaxy_engine.game.validate import Fields

OPS = ["design", "produce", "send", "load", "unload", "rename_planet"]
MAX_ORDERS = 500


class Rejected(Exception):
    """An order that cannot be carried out in the current state (the reason is the message)."""


def parse_batch(raw: list) -> list[dict]:
    """The orders in their normal form; every shape problem at once, else InvalidRequest."""
    problems: list[str] = []
    batch = [_parse(order, f"orders[{i}]", problems) for i, order in enumerate(raw)]
    if problems:
        raise InvalidRequest.of(problems)
    return batch


def _parse(order: object, where: str, problems: list[str]) -> dict:
    f = Fields(order, where, problems)
    op = f.choice("op", OPS)
    out: dict = {"op": op}
    if op == "design":
        out["name"] = f.name("name")
        for part in ("drive", "attacks", "weapons", "shields", "cargo"):
            out[part] = f.integer(part)
    elif op == "produce":
        out["planet"] = f.integer("planet", minimum=1)
        out["what"] = f.choice("what", [p.value for p in Production])
        if out["what"] == Production.SHIP:
            out["ship_type"] = f.name("ship_type")
    elif op == "send":
        out["group"] = f.integer("group", minimum=1)
        out["to"] = f.integer("to", minimum=1)
        count = f.integer("count", minimum=1, required=False)
        if count is not None:
            out["count"] = count
    elif op == "load":
        out["group"] = f.integer("group", minimum=1)
        out["cargo"] = f.choice("cargo", [c.value for c in Cargo])
    elif op == "unload":
        out["group"] = f.integer("group", minimum=1)
    elif op == "rename_planet":
        out["planet"] = f.integer("planet", minimum=1)
        out["name"] = f.name("name")
    if op is not None:
        f.no_others()
    return out


def check_batch(state: GameState, race: str, batch: list[dict]) -> None:
    """Execute the batch on a copy of `state`; InvalidRequest naming every order it rejects."""
    scratch = state.copy()
    problems = []
    for i, order in enumerate(batch):
        try:
            execute(scratch, race, order)
        except Rejected as reason:
            problems.append(f"orders[{i}] ({order['op']}): {reason}")
    if problems:
        raise InvalidRequest.of(problems)


def execute(state: GameState, race: str, order: dict) -> str:
    """Carry out one order; a note on what it did, or Rejected with the reason."""
    return _EXECUTORS[order["op"]](state, race, order)


# ------------------------------------------------------------------ executors


def _design(state: GameState, race: str, o: dict) -> str:
    designs = state.race(race).designs
    if o["name"] in designs:
        raise Rejected(f"ship type {o['name']} already exists")
    d = Design(o["drive"], o["attacks"], o["weapons"], o["shields"], o["cargo"])
    problem = rules.design_problem(d)
    if problem:
        raise Rejected(problem)
    designs[o["name"]] = d
    return f"designed {o['name']} (mass {rules.ship_mass(d)})"


def _own_planet(state: GameState, race: str, planet_id: int):
    p = state.planet(planet_id)
    if p is None:
        raise Rejected(f"there is no planet {planet_id}")
    if p.owner != race:
        raise Rejected(f"planet {planet_id} is not yours")
    return p


def _own_group(state: GameState, race: str, group_id: int, *, docked: bool = True) -> Group:
    g = state.group(group_id)
    if g is None or g.owner != race:
        raise Rejected(f"you have no group {group_id}")
    if docked and g.at is None:
        raise Rejected(f"group {group_id} is in hyperspace")
    return g


def _produce(state: GameState, race: str, o: dict) -> str:
    p = _own_planet(state, race, o["planet"])
    ship_type = o.get("ship_type")
    if ship_type is not None and ship_type not in state.race(race).designs:
        raise Rejected(f"you have no ship type {ship_type}")
    if (p.production, p.ship_type) != (o["what"], ship_type):
        p.production, p.ship_type, p.progress = o["what"], ship_type, 0
    return f"planet {p.id} produces {ship_type or o['what']}"


def _send(state: GameState, race: str, o: dict) -> str:
    g = _own_group(state, race, o["group"])
    target = state.planet(o["to"])
    if target is None:
        raise Rejected(f"there is no planet {o['to']}")
    if target.id == g.at:
        raise Rejected(f"group {g.id} is already at planet {target.id}")
    count = o.get("count", g.count)
    if count > g.count:
        raise Rejected(f"group {g.id} has only {g.count} ships")
    if state.design(race, g.ship_type).drive == 0:
        raise Rejected(f"{g.ship_type} has no drive and cannot leave its planet")
    moving = _split(state, g, count)
    moving.origin, moving.destination = moving.at, target.id
    moving.remaining = rules.distance(state.planet(moving.at), target)
    moving.at = None
    return f"group {moving.id} sent to planet {target.id}"


def _split(state: GameState, g: Group, count: int) -> Group:
    """`count` ships of `g` as a group of their own (g itself when that is all of them)."""
    if count == g.count:
        return g
    load = g.load * count // g.count
    part = Group(
        id=state.new_group_id(), owner=g.owner, ship_type=g.ship_type, count=count, at=g.at,
        cargo=g.cargo if load else None, load=load,
    )
    g.count -= count
    g.load -= load
    if g.load == 0:
        g.cargo = None
    state.groups.append(part)
    return part


def _load(state: GameState, race: str, o: dict) -> str:
    g = _own_group(state, race, o["group"])
    p = state.planet(g.at)
    if p.owner != race:
        raise Rejected(f"group {g.id} is not at one of your planets")
    capacity = rules.cargo_capacity(state.design(race, g.ship_type)) * g.count
    if capacity == 0:
        raise Rejected(f"{g.ship_type} has no cargo bay")
    if g.cargo not in (None, o["cargo"]):
        raise Rejected(f"group {g.id} already carries {g.cargo}")
    amount = min(capacity - g.load, getattr(p, o["cargo"]))
    setattr(p, o["cargo"], getattr(p, o["cargo"]) - amount)
    g.load += amount
    if g.load:
        g.cargo = o["cargo"]
    return f"group {g.id} loaded {amount} {o['cargo']}"


def _unload(state: GameState, race: str, o: dict) -> str:
    g = _own_group(state, race, o["group"])
    if not g.load:
        raise Rejected(f"group {g.id} carries nothing")
    p = state.planet(g.at)
    if p.owner not in (None, race):
        raise Rejected(f"planet {p.id} belongs to another race")
    amount, kind = g.load, g.cargo
    if kind == Cargo.COLONISTS:
        if p.owner is None:
            p.owner, p.production, p.ship_type, p.progress = race, Production.CAPITAL, None, 0
        people = amount * rules.COLONISTS_PER_UNIT
        settled = min(people, p.size - p.population)
        p.population += settled
        p.colonists += (people - settled) // rules.COLONISTS_PER_UNIT
    elif kind == Cargo.CAPITAL:
        p.capital += amount
    else:
        p.materials += amount
    g.load, g.cargo = 0, None
    return f"group {g.id} unloaded {amount} {kind} on planet {p.id}"


def _rename_planet(state: GameState, race: str, o: dict) -> str:
    p = _own_planet(state, race, o["planet"])
    taken = {q.name.lower() for q in state.planets if q.id != p.id}
    if o["name"].lower() in taken:
        raise Rejected(f"another planet is already called {o['name']}")
    p.name = o["name"]
    return f"planet {p.id} renamed {p.name}"


_EXECUTORS = {
    "design": _design,
    "produce": _produce,
    "send": _send,
    "load": _load,
    "unload": _unload,
    "rename_planet": _rename_planet,
}
