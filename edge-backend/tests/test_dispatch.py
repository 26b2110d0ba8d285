"""Contract paths are dispatched by segments to exactly the route Starlette's router would pick."""

from __future__ import annotations

import itertools

import pytest
from edge_doubles import shared_contract
from galaxy_edge.app import create_app
from galaxy_edge.dispatch import ContractPaths
from galaxy_edge.routing import ContractRoute
from galaxy_edge.settings import EdgeSettings
from starlette.routing import Match


@pytest.fixture(scope="module")
def app():
    settings = EdgeSettings(
        identity_cache_max_users=0, session_cache_max_sessions=0, admin_cache_max_credentials=0,
        reply_cache_max_users=0,
    )
    return create_app(settings, contract=shared_contract())


def starlette_pick(app, path: str):
    """What Starlette's router does: the first route that fully matches, and its parameters."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, child["path_params"]
    return None


def probe_paths(routes: list[ContractRoute]) -> set[str]:
    """Every template filled with a plain value and with every literal found at the same depth
    in another route (so a literal sibling and a parameter compete), plus near misses."""
    literals_at: dict[int, set[str]] = {}
    for route in routes:
        for depth, segment in enumerate(route.path.split("/")):
            if not segment.startswith("{"):
                literals_at.setdefault(depth, set()).add(segment)
    paths: set[str] = set()
    for route in routes:
        segments = route.path.split("/")
        choices = [
            sorted({"3fa85f64-5717-4562-b3fc-2c963f66afa6", "x"} | literals_at.get(d, set()))
            if s.startswith("{") else [s]
            for d, s in enumerate(segments)
        ]
        for combination in itertools.islice(itertools.product(*choices), 400):
            path = "/".join(combination)
            paths |= {path, path + "/", path + "/extra", path.replace("/", "//", 1)}
        paths.add("/".join(s if not s.startswith("{") else "" for s in segments))  # empty params
    return paths | {"/", "", "/openapi.json", "/api/v1/nowhere", "/api/v1/user/account/"}


def test_every_contract_path_reaches_the_route_starlette_would_pick(app) -> None:
    routes = [r for r in app.router.routes if isinstance(r, ContractRoute)]
    paths = ContractPaths(routes)
    probes = probe_paths(routes)
    assert len(probes) > 500
    for path in sorted(probes):
        expected = starlette_pick(app, path)
        if expected is not None and not isinstance(expected[0], ContractRoute):
            expected = None  # /openapi.json: Starlette's own route, found by falling through
        assert paths.match(path) == expected, path


async def test_a_request_to_a_contract_path_is_answered_by_its_route(app) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        health = await client.get("/healthz")
        missing = await client.get("/api/v1/nowhere")
        method = await client.delete("/healthz")
        spec = await client.get("/openapi.json")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert method.status_code == 405 and method.headers["allow"] == "GET"
    assert spec.status_code == 200 and "paths" in spec.json()
