"""A plain clone is the whole project: no tracked file reaches outside the repository.

Tests once read the contract from a `shared/spec` folder beside the
repository and stopped with FileNotFoundError (or silently skipped) in a clone
with nothing beside it; docs sent readers to files a clone does not have.
The contract is the edge's packaged `galaxy-backend.openapi.yaml`, and
docs/contracts.md records its decisions.
`.ci/` (the CI machinery describes its own checkout) and `uv.lock` are exempt.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXEMPT_PREFIXES = (".ci/",)
EXEMPT_FILES = {"uv.lock"}
#: The shared folder beside the repository, and path joins that build `shared/spec` from pieces.
OUTSIDE = re.compile(
    r"\.\./shared"
    r"|[\"']shared[\"']\s*/\s*[\"']spec[\"']"
    r"|parents?\[\d\]\s*/\s*[\"']\.\.[\"']"
)


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    files = []
    for name in filter(None, listed.split("\0")):
        if name in EXEMPT_FILES or name.startswith(EXEMPT_PREFIXES):
            continue
        path = ROOT / name
        if path.is_file() and b"\0" not in path.read_bytes()[:4096]:
            files.append(path)
    return files


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_contract_decisions_are_in_the_repository() -> None:
    """Code cites "contract decision N"; each N is written down in docs/contracts.md."""
    contracts = (ROOT / "docs" / "contracts.md").read_text()
    cited = set()
    for path in tracked_text_files():
        text = path.read_text("utf-8", "replace")
        cited |= {int(n) for n in re.findall(r"contract decision (\d+)", text)}
    assert cited, "nothing cites a contract decision any more: drop this test"
    written = {int(n) for n in re.findall(r"^(\d+)\. \*\*", contracts, flags=re.MULTILINE)}
    assert cited <= written
