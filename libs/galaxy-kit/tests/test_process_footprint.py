"""What a service process loads: the imports its memory budget depends on.

See docs/performance.md, "Memory".

Each check runs a fresh interpreter, since what a test process has already
imported says nothing about a service's.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENTRY_POINTS = sorted(ROOT.glob("services/*/src/galaxy_*/__main__.py")) + [
    ROOT / "edge-backend/src/galaxy_edge/__main__.py"
]


def _loaded_after(code: str) -> set[str]:
    probe = (f"{code}\nimport sys\n"
             "print(' '.join(sorted(n for n, m in sys.modules.items() if m is not None)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_every_entry_point_imports_the_kit_entry_first() -> None:
    assert len(ENTRY_POINTS) == 8
    for path in ENTRY_POINTS:
        body = ast.parse(path.read_text()).body
        imports = [node for node in body if isinstance(node, ast.Import | ast.ImportFrom)]
        # Standard-library imports may come first (they never import rich); the kit entry must
        # precede every third-party and first-party import.
        third_party = [node for node in imports if _is_third_party(node)]
        assert third_party, path
        first = third_party[0]
        assert isinstance(first, ast.Import), path
        assert [alias.name for alias in first.names] == ["galaxy_kit.entry"], (
            f"{path.relative_to(ROOT)}: the first non-stdlib import is not galaxy_kit.entry")


def _is_third_party(node: ast.Import | ast.ImportFrom) -> bool:
    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
    top = module.split(".")[0] if module else ""
    return bool(top) and top != "__future__" and top not in sys.stdlib_module_names


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_the_entry_keeps_development_extras_out_and_logging_still_works(log_format: str) -> None:
    loaded = _loaded_after(
        "import galaxy_kit.entry\n"
        "import httpx, structlog\n"
        "from galaxy_kit.logging import configure, get_logger\n"
        "from galaxy_kit.settings import LoggingSettings\n"
        f"configure(LoggingSettings(log_format={log_format!r}), service='probe')\n"
        "log = get_logger('probe')\n"
        "log.info('probe_event')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('probe_failure')\n"
        "httpx.Client().close()\n"
    )
    assert "structlog" in loaded and "httpx" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("rich", "pygments")}


@pytest.mark.parametrize("module", ["galaxy_edge.__main__"])
def test_the_edge_loads_no_database_driver(module: str) -> None:
    # The edge reads event envelopes and ensures topics; the outbox and the inbox consumer (and with
    # them SQLAlchemy and asyncpg, about 16 MB) stay out of it.
    loaded = _loaded_after(f"import {module}")
    assert "galaxy_kit.events" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("sqlalchemy", "asyncpg")}


def test_language_data_loads_only_when_a_tag_is_checked() -> None:
    loaded = _loaded_after("import galaxy_kit.validation as v\nassert v.parse_uuid('x') is None")
    assert "langcodes" not in loaded
    loaded = _loaded_after(
        "import galaxy_kit.validation as v\nassert v.canonical_language_tag('EN-us') == 'en-US'")
    assert "langcodes" in loaded


def test_a_frozen_start_up_heap_is_left_out_of_full_collections() -> None:
    probe = (
        "import gc, galaxy_kit.entry, galaxy_account.__main__\n"
        "from galaxy_kit.heap import freeze_startup_heap\n"
        "before = len(gc.get_objects())\n"
        "freeze_startup_heap()\n"
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    before, frozen, tracked = map(int, done.stdout.split())
    assert frozen > 50_000 and frozen >= before * 0.9
    assert tracked < 1_000  # what a full collection still walks
