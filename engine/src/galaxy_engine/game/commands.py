"""Immediate commands: answered at once, outside the turn.

`distance` and `evaluate_design` only compute; `message` stores a message for
its recipients' next report (so it changes the state and is saved before the
answer). Every command is one JSON object with a `command` field.
"""

from __future__ import annotations

from galaxy_engine.errors import InvalidRequest
from galaxy_engine.game import report, rules
from galaxy_engine.game.model import Design, GameState
from galaxy_engine.game.validate import Fields

COMMANDS = ["races", "distance", "evaluate_design", "message"]
MAX_MESSAGE_LENGTH = 2000


def run(state: GameState, race: str, body: object) -> tuple[dict, bool]:
    """(the answer, whether the state changed); InvalidRequest for a bad command."""
    problems: list[str] = []
    f = Fields(body, "command", problems)
    name = f.choice("command", COMMANDS)
    if name is None:
        raise InvalidRequest.of(problems)
    return _HANDLERS[name](state, race, f, problems)


def _done(f: Fields, problems: list[str]) -> None:
    f.no_others()
    if problems:
        raise InvalidRequest.of(problems)


def _races(state: GameState, race: str, f: Fields, problems: list[str]) -> tuple[dict, bool]:
    _done(f, problems)
    return {"races": [{"race": r.name, "status": r.status} for r in state.races]}, False


def _distance(state: GameState, race: str, f: Fields, problems: list[str]) -> tuple[dict, bool]:
    origin, target = f.integer("from", minimum=1), f.integer("to", minimum=1)
    ship_type = f.name("ship_type", required=False)
    _done(f, problems)
    a, b = state.planet(origin), state.planet(target)
    if a is None or b is None:
        raise InvalidRequest(f"there is no planet {target if a else origin}")
    answer = {"from": origin, "to": target, "distance": rules.distance(a, b)}
    if ship_type is not None:
        design = state.race(race).designs.get(ship_type)
        if design is None:
            raise InvalidRequest(f"you have no ship type {ship_type}")
        speed = rules.design_speed(design)
        answer.update(ship_type=ship_type, speed=speed,
                      turns=-(-answer["distance"] // speed) if speed else None)
    return answer, False


def _evaluate_design(state: GameState, race: str, f: Fields, problems: list[str]) -> tuple[dict, bool]:
    parts = {k: f.integer(k) for k in ("drive", "attacks", "weapons", "shields", "cargo")}
    _done(f, problems)
    design = Design(**parts)
    problem = rules.design_problem(design)
    if problem:
        raise InvalidRequest(problem)
    return report.design_view(design), False


def _message(state: GameState, race: str, f: Fields, problems: list[str]) -> tuple[dict, bool]:
    to = f.array("to", required=False, max_items=len(state.races))
    text = f.text("text", max_length=MAX_MESSAGE_LENGTH)
    _done(f, problems)
    names = [r.name for r in state.races if r.name != race]
    recipients = names if to is None else to
    unknown = [str(n) for n in recipients if n not in names]
    if unknown:
        raise InvalidRequest(f"command.to: no other race called {', '.join(unknown)}")
    for name in dict.fromkeys(recipients):
        state.inbox.setdefault(name, []).append({"from": race, "turn": state.turn, "text": text})
    return {"delivered_to": list(dict.fromkeys(recipients)), "in_report": state.turn + 1}, True


_HANDLERS = {
    "races": _races,
    "distance": _distance,
    "evaluate_design": _evaluate_design,
    "message": _message,
}
