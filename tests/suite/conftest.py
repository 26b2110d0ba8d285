"""Suite-tier test configuration: the shared helpers (suite_helpers.py) importable, and the
fixtures every suite module uses: `http` (a client of the suite's edge) and `validate`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="module")
def http(suite) -> Iterator[httpx.Client]:
    """A client of the suite's edge; the generous timeout covers a loaded machine's slow start."""
    with httpx.Client(base_url=suite.edge_url, timeout=60.0) as client:
        yield client


@pytest.fixture(scope="module")
def validate(http) -> Callable[[str, dict], None]:
    """validate(name, instance): the instance against the contract schema `name`, as the edge serves it."""
    from galaxy_edge.schema import compile_validator, to_json_schema

    components = http.get("/openapi.json").json()["components"]["schemas"]

    def check(name: str, instance: dict) -> None:
        validator = compile_validator(to_json_schema(components[name], components))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
        assert not errors, errors

    return check
