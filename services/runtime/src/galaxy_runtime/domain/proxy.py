"""The engine proxy: a member's commands, orders and reports, passed to the game's engine with the member's race.

Only an active member of the game (lobby says so, with the race) gets through; anyone else is told
the game does not exist (404), so the proxy does not reveal which games exist. Bodies are bytes end
to end (never parsed into doubles); the engine's answer is passed back as it wrote it, its 4xx as
the matching error with its message. An engine that does not answer within the deadline is 503.
"""

from __future__ import annotations

from galaxy_kit.errors import Conflict, InvalidArgument, NotFound, Unavailable

from galaxy_runtime.clients import ENGINE_DOWN, EngineReply
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.runtimes import parse_game_id
from galaxy_runtime.domain.turns import TurnRunner
from galaxy_runtime.domain.vocabulary import LIVE, RuntimeStatus
from galaxy_runtime.repository import runtimes as repo

#: A stopped game has no engine, so nothing of it can be served (docs/runtime.md).
_NOT_RUNNING = "the game's engine is not running"


async def _route(deps: Deps, user_id: str, game_id: str) -> tuple[str, str]:
    """(endpoint, race) for an active member of a game whose engine runs (live, or finished and not
    yet stopped: the final reports stay readable; the engine itself refuses new orders then)."""
    try:
        parsed = parse_game_id(game_id)
    except InvalidArgument:
        raise NotFound("game not found") from None
    race = await deps.members.race_of(str(parsed), user_id)
    runtime = await repo.get_fresh(deps, parsed)
    if runtime is None or runtime.status in (RuntimeStatus.STARTING, RuntimeStatus.START_FAILED):
        raise Conflict("the game has not started")
    if runtime.status not in (*LIVE, RuntimeStatus.FINISHED):
        raise Conflict(_NOT_RUNNING)
    if not runtime.endpoint:
        raise Unavailable(ENGINE_DOWN)
    return runtime.endpoint, race


def _sized(deps: Deps, body: bytes) -> bytes:
    limit = deps.settings.runtime_max_body_bytes
    if len(body) > limit:
        raise InvalidArgument(f"body: must not exceed {limit} bytes")
    if not body:
        raise InvalidArgument("body: a JSON object is required")
    return body


async def command(deps: Deps, *, user_id: str, game_id: str, body: bytes) -> EngineReply:
    body = _sized(deps, body)
    endpoint, race = await _route(deps, user_id, game_id)
    return await deps.engines.checked(endpoint, "POST", f"/v1/races/{race}/commands", body)


async def orders(deps: Deps, runner: TurnRunner, *, user_id: str, game_id: str, body: bytes) -> EngineReply:
    """Store the race's orders; when every active race has marked its orders final, the turn runs early."""
    body = _sized(deps, body)
    endpoint, race = await _route(deps, user_id, game_id)
    reply = await deps.engines.checked(endpoint, "POST", f"/v1/races/{race}/orders", body)
    try:
        all_final = reply.json().get("all_final") is True
    except (ValueError, AttributeError):
        all_final = False
    if all_final:
        await runner.early(parse_game_id(game_id))
    return reply


async def report(deps: Deps, *, user_id: str, game_id: str, turn: int) -> EngineReply:
    if turn < 0:
        raise InvalidArgument("turn: must not be negative")
    endpoint, race = await _route(deps, user_id, game_id)
    return await deps.engines.checked(endpoint, "GET", f"/v1/races/{race}/reports/{turn}")
