"""Requests to contract paths go straight to their route, found by path segments.

Starlette's router finds a route by trying each route's regular expression in
turn, behind two exception middlewares that wrap every `send`; on the edge every
service-backed route is a `ContractRoute` that answers every failure in the
envelope itself, so that machinery only costs CPU. `EdgeApp` looks the path up
first: an exact path in a dict, else a walk down a tree of path segments (a
literal segment tried before a parameter, which is the order of
`galaxy_edge.routing.ordered`, so the route found is the one Starlette's router
would pick; `tests/test_dispatch.py` compares the two on every contract path).
Anything not found — an unknown path, `/openapi.json`, the lifespan — goes
through Starlette as before, so its 404 and every other answer stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import get_route_path
from starlette.types import Receive, Scope, Send

from galaxy_edge.routing import ContractRoute


class _Node:
    __slots__ = ("literals", "parameter", "route")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.route: ContractRoute | None = None


class ContractPaths:
    """The contract routes by path: `match(path)` → (route, path parameters) or None."""

    def __init__(self, routes: Sequence[ContractRoute]) -> None:
        self._exact: dict[str, ContractRoute] = {}
        self._names: dict[int, tuple[str, ...]] = {}
        self._root = _Node()
        for route in routes:
            segments = route.path.split("/")[1:]
            names = tuple(s[1:-1] for s in segments if s.startswith("{"))
            if not names:
                self._exact.setdefault(route.path, route)
            node = self._root
            for segment in segments:
                if segment.startswith("{"):
                    if node.parameter is None:
                        node.parameter = _Node()
                    node = node.parameter
                else:
                    node = node.literals.setdefault(segment, _Node())
            if node.route is None:  # the first of equal templates wins, as in Starlette
                node.route = route
                self._names[id(route)] = names

    def match(self, path: str) -> tuple[ContractRoute, dict[str, Any]] | None:
        route = self._exact.get(path)
        if route is not None:
            return route, {}
        if not path.startswith("/"):
            return None
        values: list[str] = []
        route = _find(self._root, path.split("/"), 1, values)
        if route is None:
            return None
        return route, dict(zip(self._names[id(route)], values, strict=True))


def _find(node: _Node, segments: list[str], index: int, values: list[str]) -> ContractRoute | None:
    if index == len(segments):
        return node.route
    segment = segments[index]
    child = node.literals.get(segment)
    if child is not None:
        found = _find(child, segments, index + 1, values)
        if found is not None:
            return found
    if node.parameter is not None and segment:  # a parameter is one non-empty segment
        values.append(segment)
        found = _find(node.parameter, segments, index + 1, values)
        if found is not None:
            return found
        values.pop()
    return None


class EdgeApp(Starlette):
    """Starlette, with contract paths dispatched to their route before its router runs."""

    def __init__(self, *, contract_routes: Sequence[ContractRoute], **options: Any) -> None:
        super().__init__(**options)
        self.contract_paths = ContractPaths(contract_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.contract_paths.match(get_route_path(scope))
            if found is not None:
                route, params = found
                scope["app"] = self
                scope["route"] = route
                scope["path_params"] = params
                await route.handle(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
