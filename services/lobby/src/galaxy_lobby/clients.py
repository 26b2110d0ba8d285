"""gRPC clients of account (entitlement and limits) and runtime (start, pause, resume, stop).

Both are called outside any transaction (no remote call while a lock is held): the domain
fetches limits before it opens its transaction, and talks to runtime after committing.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from galaxy_kit.downstream import downstream_failure
from galaxy_kit.errors import NotFound
from galaxy_kit.logging import get_logger

from galaxy_lobby.domain.vocabulary import LimitCode

log = get_logger(__name__)


@dataclass(frozen=True)
class Allowance:
    """How much of lobby a user may hold at once (docs/lobby.md, "Limits")."""

    max_registered_race_names: int
    max_active_games: int
    max_pending_applications: int
    max_pending_invites: int


@dataclass(frozen=True)
class Defaults:
    """Lobby's numbers for the limit codes the entitlement does not carry."""

    max_active_games: int
    max_pending_applications: int
    max_pending_invites: int


class AccountDirectory:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float, defaults: Defaults) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self._timeout = timeout
        self._defaults = defaults

    async def allowance(self, user_id: str) -> Allowance:
        """The entitlement's numbers and lobby's defaults, each overridden by an active limit of its code."""
        try:
            reply = await self._stub.InternalUsersGetAccountInternal(
                account_pb2.InternalUsersGetAccountInternalRequest(user_id=user_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("user not found") from None
            raise downstream_failure("account", "InternalUsersGetAccountInternal", error) from None
        account = reply.account
        numbers = {
            LimitCode.MAX_REGISTERED_RACE_NAMES: account.entitlement.max_registered_race_names,
            LimitCode.MAX_ACTIVE_GAMES: self._defaults.max_active_games,
            LimitCode.MAX_PENDING_APPLICATIONS: self._defaults.max_pending_applications,
            LimitCode.MAX_PENDING_INVITES: self._defaults.max_pending_invites,
        }
        for limit in account.active_limits:  # account lists only active ones, the latest per code
            if limit.limit_code in numbers:
                numbers[LimitCode(limit.limit_code)] = limit.value
        return Allowance(**{str(code): value for code, value in numbers.items()})


@dataclass(frozen=True)
class RosterEntry:
    user_id: str
    race_name: str


class RuntimeRefused(Exception):
    """Runtime did not do what lobby asked; `reason` is client-safe.

    `kind`: UNIMPLEMENTED (runtime cannot do it yet), REFUSED (runtime said no), UNAVAILABLE
    (runtime down or too slow, or it answered something unexpected).
    """

    UNIMPLEMENTED = "unimplemented"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class RuntimeControl:
    """Lobby's side of the conversation with runtime (protos/galaxy/runtime/v1/runtime.proto, internal RPCs)."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = runtime_pb2_grpc.RuntimeServiceStub(channel)
        self._timeout = timeout

    async def start(self, *, game_id: str, engine_version: str, turn_schedule: str,
                    roster: list[RosterEntry]) -> None:
        request = runtime_pb2.StartRuntimeRequest(game_id=game_id, engine_version=engine_version,
                                                  turn_schedule=turn_schedule)
        for entry in roster:
            request.roster.add(user_id=entry.user_id, race_name=entry.race_name)
        await self._call("StartRuntime", request)

    async def pause(self, game_id: str) -> None:
        await self._call("PauseRuntime", runtime_pb2.PauseRuntimeRequest(game_id=game_id))

    async def resume(self, game_id: str) -> None:
        await self._call("ResumeRuntime", runtime_pb2.ResumeRuntimeRequest(game_id=game_id))

    async def stop(self, game_id: str, reason: str) -> None:
        await self._call("StopRuntime", runtime_pb2.StopRuntimeRequest(game_id=game_id, reason=reason))

    async def _call(self, method: str, request) -> None:
        try:
            reply = await getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                raise RuntimeRefused(RuntimeRefused.UNIMPLEMENTED,
                                     f"runtime does not implement {method} yet") from None
            if error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS):
                raise RuntimeRefused(RuntimeRefused.REFUSED,
                                     f"runtime refused {method}: {error.details()}") from None
            failure = downstream_failure("runtime", method, error)
            raise RuntimeRefused(RuntimeRefused.UNAVAILABLE, f"runtime failed {method}: {failure}") from None
        if reply.HasField("error") and reply.error:
            raise RuntimeRefused(RuntimeRefused.REFUSED, f"runtime refused {method}: {reply.error}")
