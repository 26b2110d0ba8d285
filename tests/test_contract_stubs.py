"""The committed stubs in libs/galaxy-contracts are exactly what protos/ generates.

Fails when someone edits a .proto without running `make protos`, or edits a
generated file by hand.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "libs" / "galaxy-contracts" / "src" / "galaxy"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "tools" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(base: Path) -> dict[str, bytes]:
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_committed_stubs_match_protos(tmp_path: Path) -> None:
    written = _load_generator().generate(tmp_path)
    assert written, "tools/gen_protos.py generated nothing"
    fresh = _tree(tmp_path / "galaxy")
    committed = _tree(COMMITTED)
    missing = sorted(set(fresh) - set(committed))
    stale = sorted(set(committed) - set(fresh))
    differ = sorted(name for name in set(fresh) & set(committed) if fresh[name] != committed[name])
    assert not (missing or stale or differ), (
        "libs/galaxy-contracts drifted from protos/; run `make protos` and commit.\n"
        f"not committed: {missing}\nno longer generated: {stale}\ndiffering: {differ}"
    )


def test_every_proto_has_stubs() -> None:
    protos = sorted((ROOT / "protos").rglob("*.proto"))
    assert protos
    for proto in protos:
        rel = proto.relative_to(ROOT / "protos").with_suffix("")
        stub = COMMITTED.parent / f"{rel.as_posix()}_pb2.py"
        assert stub.is_file(), f"{proto} has no generated {stub}"
