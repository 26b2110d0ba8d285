"""The state directory: a turn is committed whole or not at all, and a new process resumes it.

A crash between the report files and game.json is reproduced by making the
commit write fail (an injected OSError standing in for the process dying at
that instant): the files written before it are exactly what a crash leaves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from galaxy_engine.engine import Engine

INIT = {"seed": 99, "roster": [{"user_id": "u1", "race": "Vogons"},
                               {"user_id": "u2", "race": "Zzyax"}]}
ORDERS = {"orders": [{"op": "produce", "planet": 1, "what": "ship", "ship_type": "Fighter"}]}


def _started(state_dir: Path) -> Engine:
    engine = Engine(state_dir)
    engine.init_game(INIT)
    engine.submit_orders("Vogons", ORDERS)
    return engine


def _fail_commit(engine: Engine) -> None:
    def crash(init, state):
        raise OSError("injected: the process died before game.json was replaced")

    engine._store.save = crash


def test_a_turn_that_fails_to_commit_is_not_applied_and_runs_again_identically(tmp_path):
    clean = _started(tmp_path / "clean")
    clean.run_turn(1)
    expected = {race: clean.report(race, 1) for race in ("Vogons", "Zzyax")}

    state_dir = tmp_path / "crashed"
    engine = _started(state_dir)
    committed = (state_dir / "game.json").read_bytes()
    _fail_commit(engine)
    with pytest.raises(OSError, match="injected"):
        engine.run_turn(1)
    # nothing of turn 1 is visible, on disk or in memory
    assert (state_dir / "game.json").read_bytes() == committed
    assert engine.game()["turn"] == 0
    assert (state_dir / "reports" / "000001").exists()  # what the crash left behind

    resumed = Engine(state_dir)
    assert resumed.game()["turn"] == 0
    assert resumed.get_orders("Vogons")["orders"] == ORDERS["orders"]
    assert not (state_dir / "reports" / "000001").exists()  # leftovers of the lost turn removed
    assert resumed.run_turn(1)["ran"] is True
    assert {race: resumed.report(race, 1) for race in ("Vogons", "Zzyax")} == expected


def test_a_failed_order_write_keeps_the_previous_orders(tmp_path):
    engine = _started(tmp_path)
    _fail_commit(engine)
    with pytest.raises(OSError):
        engine.submit_orders("Vogons", {"orders": []})
    assert engine.get_orders("Vogons")["orders"] == ORDERS["orders"]
    assert Engine(tmp_path).get_orders("Vogons")["orders"] == ORDERS["orders"]


def test_a_torn_temporary_file_is_ignored_and_removed(tmp_path):
    _started(tmp_path)
    torn = tmp_path / ".game.json.tmp"
    torn.write_text('{"format": 1, "state": {"tu')  # a write cut short by a crash
    engine = Engine(tmp_path)
    assert engine.game()["turn"] == 0 and not torn.exists()
    saved = json.loads((tmp_path / "game.json").read_text())
    assert saved["contract_version"] == "1.0.0" and saved["state"]["turn"] == 0
