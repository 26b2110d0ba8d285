"""The engine's operations, one per contract endpoint, over the state in memory and on disk.

Every operation holds one lock, so orders, commands and turns of the game are
applied one at a time. A change is computed on a copy, written to disk, and
only then becomes the state in memory: a failed write changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from galaxy_engine import CONTRACT_VERSION, ENGINE_NAME, ENGINE_VERSION
from galaxy_engine.errors import Conflict, InvalidRequest, NotFound
from galaxy_engine.game import commands, mapgen, orders, report, rules
from galaxy_engine.game.model import GameState, RaceOrders, RaceStatus
from galaxy_engine.game.turn import run_turn
from galaxy_engine.game.validate import Fields
from galaxy_engine.store import Store

log = logging.getLogger("galaxy_engine")

MAX_RACES = 50
MAX_TURN_LIMIT = 10_000


class Engine:
    def __init__(self, state_dir: Path) -> None:
        self._lock = threading.Lock()
        self._store = Store(state_dir)
        saved = self._store.load()
        self._init: dict | None = saved["init"] if saved else None
        self._state: GameState | None = GameState.from_dict(saved["state"]) if saved else None

    # ------------------------------------------------------------ game

    def health(self) -> dict:
        state = self._state
        return {
            "status": "ok",
            "contract_version": CONTRACT_VERSION,
            "engine": ENGINE_NAME,
            "engine_version": ENGINE_VERSION,
            "game": None if state is None else {
                "turn": state.turn,
                "status": "finished" if state.result else "running",
            },
        }

    def init_game(self, body: object) -> tuple[bool, dict]:
        """(created, the game). The same init again answers the game; a different one 409."""
        init = _parse_init(body)
        with self._lock:
            if self._state is not None:
                if init != self._init:
                    raise Conflict("the game is already initialised with another seed or roster")
                return False, self._summary(self._state)
            state = mapgen.new_game(
                init["seed"], [(r["race"], r["user_id"]) for r in init["roster"]], init["turn_limit"]
            )
            events = report.TurnEvents()
            self._store.save_reports(0, {r.name: report.build(state, r.name, events)
                                         for r in state.races})
            self._store.save(init, state.to_dict())
            self._init, self._state = init, state
            return True, self._summary(state)

    def game(self) -> dict:
        return self._summary(self._game())

    def _game(self) -> GameState:
        if self._state is None:
            raise Conflict("the game is not initialised yet (POST /v1/game)")
        return self._state

    def _race(self, state: GameState, race: str):
        found = state.race(race)
        if found is None:
            raise NotFound(f"there is no race {race} in this game")
        return found

    def _summary(self, state: GameState) -> dict:
        active = state.active_races()
        final = {name for name, o in state.orders.items() if o.final}
        return {
            "turn": state.turn,
            "turn_limit": state.turn_limit,
            "status": "finished" if state.result else "running",
            "next_turn": None if state.result else state.turn + 1,
            "races": [
                {
                    "race": r.name,
                    "user_id": r.user_id,
                    "status": r.status,
                    "orders": len(state.orders[r.name].orders) if r.name in state.orders else 0,
                    "final": r.name in final,
                }
                for r in state.races
            ],
            "all_final": bool(active) and all(r.name in final for r in active),
            "result": state.result,
        }

    # ------------------------------------------------------------ orders

    def submit_orders(self, race: str, body: object) -> dict:
        problems: list[str] = []
        f = Fields(body, "body", problems)
        raw = f.array("orders", max_items=orders.MAX_ORDERS)
        final = f.flag("final", required=False)
        turn = f.integer("turn", minimum=1, required=False)
        f.no_others()
        if problems:
            raise InvalidRequest.of(problems)
        batch = orders.parse_batch(raw)
        with self._lock:
            state = self._game()
            me = self._race(state, race)
            self._check_open(state, turn)
            if me.status != RaceStatus.ACTIVE:
                raise Conflict(f"race {race} is eliminated and gives no more orders")
            orders.check_batch(state, race, batch)
            new = state.copy()
            new.orders[race] = RaceOrders(orders=batch, final=bool(final))
            self._commit_state(new)
            return self._orders_view(new, race)

    def get_orders(self, race: str) -> dict:
        with self._lock:
            state = self._game()
            self._race(state, race)
            return self._orders_view(state, race)

    def _orders_view(self, state: GameState, race: str) -> dict:
        mine = state.orders.get(race, RaceOrders())
        return {
            "race": race,
            "turn": state.turn + 1,
            "orders": mine.orders,
            "final": mine.final,
            "all_final": self._summary(state)["all_final"],
        }

    def _check_open(self, state: GameState, turn: int | None) -> None:
        if state.result:
            raise Conflict(f"the game is over (turn {state.result['turn']})")
        if turn is not None and turn != state.turn + 1:
            raise Conflict(f"orders are taken for turn {state.turn + 1}, not turn {turn}")

    # ------------------------------------------------------------ commands

    def command(self, race: str, body: object) -> dict:
        with self._lock:
            state = self._game()
            self._race(state, race)
            scratch = state.copy()
            answer, changed = commands.run(scratch, race, body)
            if changed:
                self._check_open(state, None)
                self._commit_state(scratch)
            return {"command": body["command"], "result": answer}

    # ------------------------------------------------------------ turns and reports

    def run_turn(self, turn: int) -> dict:
        """Run turn `turn` if it is the next one; a turn already run is answered, not re-run."""
        if turn < 1:
            raise InvalidRequest("turns are numbered from 1")
        with self._lock:
            state = self._game()
            if turn <= state.turn:
                return {"turn": turn, "ran": False, "game": self._summary(state)}
            if state.result:
                raise Conflict(f"the game is over (turn {state.result['turn']})")
            if turn != state.turn + 1:
                raise Conflict(f"the next turn is {state.turn + 1}, not {turn}")
            started = time.monotonic()
            new = state.copy()
            reports = run_turn(new)
            self._store.save_reports(new.turn, reports)
            self._commit_state(new)
            log.info("turn %d ran and was saved in %d ms%s", turn,
                     (time.monotonic() - started) * 1000,
                     f"; the game is over ({new.result['reason']})" if new.result else "")
            return {"turn": turn, "ran": True, "game": self._summary(new)}

    def report(self, race: str, turn: int) -> dict:
        with self._lock:
            state = self._game()
            self._race(state, race)
            if turn > state.turn:
                raise NotFound(f"there is no report for turn {turn} yet (the game is at turn "
                               f"{state.turn})")
            found = self._store.load_report(turn, race)
            if found is None:
                raise NotFound(f"there is no report for race {race} and turn {turn}")
            return found

    def _commit_state(self, new: GameState) -> None:
        self._store.save(self._init, new.to_dict())
        self._state = new


def _parse_init(body: object) -> dict:
    problems: list[str] = []
    f = Fields(body, "body", problems)
    seed = f.integer("seed")
    turn_limit = f.integer("turn_limit", minimum=1, required=False)
    roster = f.array("roster", max_items=MAX_RACES) or []
    f.no_others()
    if not roster and "roster" in (body if isinstance(body, dict) else {}):
        problems.append("body.roster: at least one race")
    members = []
    for i, entry in enumerate(roster):
        m = Fields(entry, f"body.roster[{i}]", problems)
        members.append({"user_id": m.text("user_id"), "race": m.name("race")})
        m.no_others()
    for key in ("user_id", "race"):
        values = [m[key] for m in members if m[key] is not None]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            problems.append(f"body.roster: {key} {', '.join(dupes)} appears more than once")
    if turn_limit is not None and turn_limit > MAX_TURN_LIMIT:
        problems.append(f"body.turn_limit: must be at most {MAX_TURN_LIMIT}")
    if problems:
        raise InvalidRequest.of(problems)
    return {
        "seed": seed,
        "roster": members,
        "turn_limit": rules.DEFAULT_TURN_LIMIT if turn_limit is None else turn_limit,
    }
