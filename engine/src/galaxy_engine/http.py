"""The engine contract over HTTP (docs/engine.md; the machine-readable form is
contract/engine.openapi.yaml, also served at GET /v1/contract).

Handlers only translate: JSON in, an `Engine` call in a worker thread (so a
long turn never stalls the health check), JSON out. Request bodies are parsed
with Python's json, so every integer arrives as an exact int; responses are
written the same way, so an integer goes back exactly as it came.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from galaxy_engine.engine import Engine
from galaxy_engine.errors import EngineError, InvalidRequest

log = logging.getLogger("galaxy_engine")

MAX_BODY_BYTES = 1 << 20


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


async def _json_body(request: Request) -> object:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks), parse_constant=_reject_constant)
    except ValueError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None


def create_app(state_dir: Path) -> Starlette:
    engine = Engine(state_dir)
    contract = resources.files("galaxy_engine").joinpath("contract/engine.openapi.yaml").read_bytes()

    async def call(fn, *args) -> object:
        return await to_thread.run_sync(fn, *args)

    async def health(request: Request) -> Response:
        return JSONResponse(engine.health())

    async def get_contract(request: Request) -> Response:
        return Response(contract, media_type="application/yaml")

    async def init_game(request: Request) -> Response:
        created, game = await call(engine.init_game, await _json_body(request))
        return JSONResponse(game, status_code=201 if created else 200)

    async def get_game(request: Request) -> Response:
        return JSONResponse(await call(engine.game))

    async def run_turn(request: Request) -> Response:
        return JSONResponse(await call(engine.run_turn, request.path_params["turn"]))

    async def post_orders(request: Request) -> Response:
        body = await _json_body(request)
        return JSONResponse(await call(engine.submit_orders, request.path_params["race"], body))

    async def get_orders(request: Request) -> Response:
        return JSONResponse(await call(engine.get_orders, request.path_params["race"]))

    async def post_command(request: Request) -> Response:
        body = await _json_body(request)
        return JSONResponse(await call(engine.command, request.path_params["race"], body))

    async def get_report(request: Request) -> Response:
        race, turn = request.path_params["race"], request.path_params["turn"]
        return JSONResponse(await call(engine.report, race, turn))

    async def engine_error(request: Request, exc: EngineError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}},
                            status_code=exc.status_code)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": {"code": "internal_error", "message": "internal error"}},
                            status_code=500)

    routes = [
        Route("/v1/health", health, methods=["GET"]),
        Route("/v1/contract", get_contract, methods=["GET"]),
        Route("/v1/game", init_game, methods=["POST"]),
        Route("/v1/game", get_game, methods=["GET"]),
        Route("/v1/turns/{turn:int}", run_turn, methods=["POST"]),
        Route("/v1/races/{race}/orders", post_orders, methods=["POST"]),
        Route("/v1/races/{race}/orders", get_orders, methods=["GET"]),
        Route("/v1/races/{race}/commands", post_command, methods=["POST"]),
        Route("/v1/races/{race}/reports/{turn:int}", get_report, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            EngineError: engine_error,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
