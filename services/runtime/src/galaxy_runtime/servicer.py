"""RuntimeService over gRPC: translate messages, call the domain with the clock's `now`. Nothing else lives here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from galaxy.common.v1.json_pb2 import RawJson
from galaxy.runtime.v1 import runtime_pb2 as pb
from galaxy.runtime.v1 import runtime_pb2_grpc
from galaxy_kit.proto import timestamp
from sqlalchemy.engine import Row

from galaxy_runtime.domain import proxy, runtimes, versions
from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.domain.turns import TurnRunner

Context = grpc.aio.ServicerContext


def system_now() -> datetime:
    return datetime.now(UTC)


def engine_version(row: Row) -> pb.EngineVersion:
    return pb.EngineVersion(version=row.version, image_ref=row.image_ref, enabled=row.enabled,
                            created_at=timestamp(row.created_at))


def operation(row: Row) -> pb.RuntimeOperation:
    message = pb.RuntimeOperation(operation_id=str(row.operation_id), game_id=str(row.game_id), op=row.op,
                                  status=row.status, started_at=timestamp(row.started_at))
    if row.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(row.finished_at))
    if row.error is not None:
        message.error = row.error
    return message


def record(row: Row) -> pb.RuntimeRecord:
    message = pb.RuntimeRecord(game_id=str(row.game_id), status=row.status, image_ref=row.image_ref)
    if row.engine_ref is not None:
        message.current_container_id = row.engine_ref
    if row.started_at is not None:
        message.started_at.CopyFrom(timestamp(row.started_at))
    if row.last_observed_at is not None:
        message.last_observed_at.CopyFrom(timestamp(row.last_observed_at))
    return message


class RuntimeServicer(runtime_pb2_grpc.RuntimeServiceServicer):
    def __init__(self, deps: Deps, runner: TurnRunner, clock: Callable[[], datetime] = system_now) -> None:
        self._deps = deps
        self._runner = runner
        self._now = clock

    # ---- the engine proxy ----

    async def UserGamesCommands(self, request: pb.UserGamesCommandsRequest, context: Context):
        reply = await proxy.command(self._deps, user_id=request.user_id, game_id=request.game_id,
                                    body=request.body.json)
        return RawJson(json=reply.body)

    async def UserGamesOrders(self, request: pb.UserGamesOrdersRequest, context: Context):
        reply = await proxy.orders(self._deps, self._runner, user_id=request.user_id, game_id=request.game_id,
                                   body=request.body.json)
        return RawJson(json=reply.body)

    async def UserGamesReport(self, request: pb.UserGamesReportRequest, context: Context):
        reply = await proxy.report(self._deps, user_id=request.user_id, game_id=request.game_id,
                                   turn=request.turn)
        return RawJson(json=reply.body)

    # ---- admin: runtimes ----

    async def AdminRuntimesGet(self, request: pb.AdminRuntimesGetRequest, context: Context):
        return record(await runtimes.get(self._deps, game_id=request.game_id))

    async def AdminRuntimesRestart(self, request: pb.AdminRuntimesRestartRequest, context: Context):
        return operation(await runtimes.restart(self._deps, game_id=request.game_id,
                                                admin=request.admin_username, now=self._now()))

    async def AdminRuntimesPatch(self, request: pb.AdminRuntimesPatchRequest, context: Context):
        return operation(await runtimes.patch(self._deps, game_id=request.game_id,
                                              target_version=request.body.target_version,
                                              admin=request.admin_username, now=self._now()))

    async def AdminRuntimesForceNextTurn(self, request: pb.AdminRuntimesForceNextTurnRequest, context: Context):
        return operation(await runtimes.force_next_turn(self._deps, game_id=request.game_id,
                                                        admin=request.admin_username, now=self._now()))

    # ---- admin: engine versions ----

    async def AdminEngineVersionsList(self, request: pb.AdminEngineVersionsListRequest, context: Context):
        return pb.EngineVersionList(items=[engine_version(r) for r in await versions.list_all(self._deps)])

    async def AdminEngineVersionsCreate(self, request: pb.AdminEngineVersionsCreateRequest, context: Context):
        body = request.body
        return engine_version(await versions.register(
            self._deps, version=body.version, image_ref=body.image_ref,
            enabled=body.enabled if body.HasField("enabled") else True, now=self._now()))

    async def AdminEngineVersionsUpdate(self, request: pb.AdminEngineVersionsUpdateRequest, context: Context):
        body = request.body
        return engine_version(await versions.update(
            self._deps, version=request.id,
            image_ref=body.image_ref if body.HasField("image_ref") else None,
            enabled=body.enabled if body.HasField("enabled") else None, now=self._now()))

    async def AdminEngineVersionsDisable(self, request: pb.AdminEngineVersionsDisableRequest, context: Context):
        return engine_version(await versions.disable(self._deps, version=request.id, now=self._now()))

    # ---- internal: lobby ----

    async def StartRuntime(self, request: pb.StartRuntimeRequest, context: Context):
        roster = [runtimes.Member(m.user_id, m.race_name) for m in request.roster]
        return operation(await runtimes.start(self._deps, game_id=request.game_id,
                                              engine_version=request.engine_version, roster=roster,
                                              turn_schedule=request.turn_schedule, seed=request.seed,
                                              now=self._now()))

    async def StopRuntime(self, request: pb.StopRuntimeRequest, context: Context):
        return operation(await runtimes.stop(self._deps, game_id=request.game_id, reason=request.reason,
                                             now=self._now()))

    async def PauseRuntime(self, request: pb.PauseRuntimeRequest, context: Context):
        return operation(await runtimes.pause(self._deps, game_id=request.game_id, now=self._now()))

    async def ResumeRuntime(self, request: pb.ResumeRuntimeRequest, context: Context):
        return operation(await runtimes.resume(self._deps, game_id=request.game_id, now=self._now()))
