"""Runtime's clients: lobby (who is an active member, with which race) and the engines' HTTP contract.

Neither is ever called while a transaction holds a lock: the domain commits first, then calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
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
#: A connection dropped before the answer came (the engine closed or reset it): for a call that may
#: be repeated, worth one more try. A refused connection (ClientConnectorError) is the engine down.
_LOST_ANSWER = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)


class EngineClient:
    """The engine HTTP contract v1 (docs/engine.md). Bodies stay bytes: numbers are never re-encoded.

    aiohttp rather than httpx: when 200 turns are due at once, every request's set-up is on the path
    to the last turn's start, and httpx's costs about 1.5 ms of CPU (its pool scans every pooled
    connection per request), aiohttp's a fifth of that (docs/performance.md, "Runtime: tick precision")."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop that the session belongs to. One session,
        # one pool (per engine host and port) for every engine; idle connections are dropped after
        # KEEPALIVE_SECONDS, well before an engine closes them.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1000, keepalive_timeout=KEEPALIVE_SECONDS),
                auto_decompress=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, endpoint: str, method: str, path: str, body: bytes | None = None,
                   *, timeout: float | None = None, repeatable: bool = False) -> EngineReply:
        """`repeatable`: the call may be sent twice (a health check, a turn: the engine runs turn n
        once), so a connection dropped before the answer came is tried once more at once."""
        headers = {"content-type": "application/json"} if body is not None else None
        seconds = timeout or self._timeout
        deadline = aiohttp.ClientTimeout(total=seconds, connect=min(seconds, 3.0))
        for last_try in (not repeatable, True):
            try:
                async with self._client().request(method, endpoint + path, data=body, headers=headers,
                                                  timeout=deadline) as response:
                    status, content = response.status, await response.read()
                break
            except _LOST_ANSWER as error:
                if last_try:
                    raise EngineDown(f"{type(error).__name__}: {error}") from None
            except (aiohttp.ClientError, TimeoutError) as error:
                raise EngineDown(f"{type(error).__name__}: {error}") from None
        if status >= 500:
            raise EngineDown(f"engine answered {status}")
        return EngineReply(status, content)

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
