"""Runtime's clients: lobby (who is an active member, with which race) and the engines' HTTP contract.

Neither is ever called while a transaction holds a lock: the domain commits first, then calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
from galaxy.lobby.v1 import lobby_pb2, lobby_pb2_grpc
from galaxy_kit.downstream import downstream_failure
from galaxy_kit.errors import Conflict, InvalidArgument, NotFound, Unavailable
from galaxy_kit.logging import get_logger

log = get_logger(__name__)

#: The message a user sees when the game's engine cannot answer (503 in the envelope).
ENGINE_DOWN = "the game's engine is unavailable, try again later"


class MemberDirectory:
    """Asks lobby whether a user is an active member of a game, and with which race."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = lobby_pb2_grpc.LobbyServiceStub(channel)
        self._timeout = timeout

    async def race_of(self, game_id: str, user_id: str) -> str:
        try:
            reply = await self._stub.InternalGetActiveMember(
                lobby_pb2.InternalGetActiveMemberRequest(game_id=game_id, user_id=user_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise NotFound("game not found") from None
            raise downstream_failure("lobby", "InternalGetActiveMember", error) from None
        return reply.race_name


class EngineDown(Exception):
    """The engine did not answer (refused, reset, timed out) or answered 5xx."""


@dataclass(frozen=True)
class EngineReply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


#: Below the reference engine's keep-alive (uvicorn's 5 s default), so runtime never reuses a
#: connection the engine may be closing.
KEEPALIVE_SECONDS = 2.0


class EngineClient:
    """The engine HTTP contract v1 (docs/engine.md). Bodies stay bytes: numbers are never re-encoded."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        # One client, one pool, for every engine. An idle connection is dropped after
        # KEEPALIVE_SECONDS, well before an engine's server closes it (uvicorn: 5 s): reusing a
        # connection the engine is closing at that moment fails the call with a ReadError, which for
        # a health check means "down" and for a turn a retry.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200,
                                keepalive_expiry=KEEPALIVE_SECONDS))

    async def close(self) -> None:
        await self._client.aclose()

    async def call(self, endpoint: str, method: str, path: str, body: bytes | None = None,
                   *, timeout: float | None = None, repeatable: bool = False) -> EngineReply:
        """`repeatable`: the call may be sent twice (a health check, a turn: the engine runs turn n
        once), so a connection dropped before the answer came is tried once more at once."""
        headers = {"content-type": "application/json"} if body is not None else None
        for last_try in (not repeatable, True):
            try:
                response = await self._client.request(method, endpoint + path, content=body, headers=headers,
                                                      timeout=timeout or self._timeout)
                break
            except (httpx.ReadError, httpx.RemoteProtocolError) as error:
                if last_try:
                    raise EngineDown(f"{type(error).__name__}: {error}") from None
            except httpx.HTTPError as error:
                raise EngineDown(f"{type(error).__name__}: {error}") from None
        if response.status_code >= 500:
            raise EngineDown(f"engine answered {response.status_code}")
        return EngineReply(response.status_code, response.content)

    async def healthy(self, endpoint: str, *, timeout: float = 2.0) -> bool:
        try:
            return (await self.call(endpoint, "GET", "/v1/health", timeout=timeout, repeatable=True)).status == 200
        except EngineDown:
            return False

    async def checked(self, endpoint: str, method: str, path: str, body: bytes | None = None) -> EngineReply:
        """A call whose 4xx becomes the matching domain error with the engine's own message."""
        try:
            reply = await self.call(endpoint, method, path, body)
        except EngineDown as down:
            log.warning("engine_unavailable", endpoint=endpoint, path=path, error=str(down))
            raise Unavailable(ENGINE_DOWN) from None
        if reply.status < 400:
            return reply
        message = _engine_message(reply)
        if reply.status == 404:
            raise NotFound(message)
        if reply.status == 409:
            raise Conflict(message)
        raise InvalidArgument(message)


def _engine_message(reply: EngineReply) -> str:
    try:
        return str(reply.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"the engine refused the request ({reply.status})"
