"""The game on disk: one state file and one report file per race and turn.

    <state-dir>/game.json                   the committed game: turn N, orders for N+1
    <state-dir>/reports/<turn>/<race>.json  each race's report for each turn (turn: 6 digits)

Every file is written atomically (temporary file in the same directory,
fsync, rename, fsync of the directory), so a reader or a restarted process
sees either the old or the new file, never a torn one. A turn's reports are
written first and game.json last: game.json is the commit point. A crash in
between leaves reports of a turn that game.json does not contain; they are
removed at start-up and the turn, run again, writes them anew.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from galaxy_engine import CONTRACT_VERSION, ENGINE_VERSION

FORMAT = 1


def write_atomic(path: Path, data: object) -> None:
    """Write JSON to `path` so that it is either wholly there or not changed at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.game_file = root / "game.json"
        self.reports_dir = root / "reports"

    def load(self) -> dict | None:
        """The committed game (None before init), after removing what a crash left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.rglob(".*.tmp"):
            leftover.unlink()
        if not self.game_file.exists():
            if self.reports_dir.exists():
                shutil.rmtree(self.reports_dir)
            return None
        saved = json.loads(self.game_file.read_text(encoding="utf-8"))
        if saved.get("format") != FORMAT:
            raise RuntimeError(f"{self.game_file}: unknown format {saved.get('format')!r}")
        turn = saved["state"]["turn"]
        if self.reports_dir.exists():
            for turn_dir in self.reports_dir.iterdir():
                if not turn_dir.name.isdigit() or int(turn_dir.name) > turn:
                    shutil.rmtree(turn_dir)
        return saved

    def save(self, init: dict, state: dict) -> None:
        write_atomic(self.game_file, {
            "format": FORMAT,
            "contract_version": CONTRACT_VERSION,
            "engine_version": ENGINE_VERSION,
            "init": init,
            "state": state,
        })

    def _report_path(self, turn: int, race: str) -> Path:
        return self.reports_dir / f"{turn:06d}" / f"{race}.json"

    def save_reports(self, turn: int, reports: dict[str, dict]) -> None:
        for race, report in reports.items():
            write_atomic(self._report_path(turn, race), report)

    def load_report(self, turn: int, race: str) -> dict | None:
        path = self._report_path(turn, race)
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
