"""The contract tier's report: which seed drew the cases, and how to replay them.

Printed after every run that collected the contract tests; under `make fuzz`
it is the report: seed, examples per operation, operations that passed and
failed per test, and the command that replays the same cases.
"""

from __future__ import annotations

from collections import Counter

import pytest

CONTRACT_MODULE = "test_schemathesis.py"


_collected: dict[str, object] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name == CONTRACT_MODULE:
            _collected["module"] = item.module
            return


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = _collected.get("module")
    if module is None:
        return
    outcomes: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if CONTRACT_MODULE not in nodeid or getattr(report, "when", "call") not in (
                "call",
                "setup",
            ):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            test = nodeid.split("::")[-1].split("[")[0]
            outcomes.setdefault(test, Counter())[outcome] += 1
    if not outcomes:
        return
    write = terminalreporter.write_line
    terminalreporter.section("contract fuzzing")
    mode = "randomised (make fuzz)" if module.FUZZ else "fixed cases (CI)"
    write(f"mode: {mode}; seed: {module.SEED}; examples per operation: {module.MAX_EXAMPLES}")
    for test, counts in sorted(outcomes.items()):
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        write(f"  {test}: {summary}")
    if module.FUZZ:
        write(
            "replay these cases: make fuzz "
            f"FUZZ_SEED={module.SEED} FUZZ_EXAMPLES={module.MAX_EXAMPLES}"
        )
    else:
        write("the same cases on every run; new ones: make fuzz")

