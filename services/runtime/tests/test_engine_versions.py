"""Engine versions over real gRPC: register (semver, unique), list, update, disable."""

from __future__ import annotations

import asyncio

import grpc
from galaxy.runtime.v1 import runtime_pb2 as pb

ADMIN = "admin"


async def error_of(call) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


def create(stub, version: str, image: str = "localhost/galaxy-engine:1", **extra):
    return stub.AdminEngineVersionsCreate(pb.AdminEngineVersionsCreateRequest(
        admin_username=ADMIN, body=pb.EngineVersionCreateRequest(version=version, image_ref=image, **extra)))


async def test_register_list_update_disable(runtime):
    stub = runtime.stub
    assert list((await stub.AdminEngineVersionsList(pb.AdminEngineVersionsListRequest())).items) == []
    made = await create(stub, "1.2.3")
    assert (made.version, made.image_ref, made.enabled) == ("1.2.3", "localhost/galaxy-engine:1", True)
    await create(stub, "1.10.0", enabled=False)
    await create(stub, "1.2.10")
    listed = await stub.AdminEngineVersionsList(pb.AdminEngineVersionsListRequest())
    assert [(v.version, v.enabled) for v in listed.items] == [("1.2.3", True), ("1.2.10", True),
                                                             ("1.10.0", False)]
    updated = await stub.AdminEngineVersionsUpdate(pb.AdminEngineVersionsUpdateRequest(
        admin_username=ADMIN, id="1.2.3", body=pb.EngineVersionUpdateRequest(image_ref="localhost/e:2")))
    assert (updated.image_ref, updated.enabled, updated.created_at) == ("localhost/e:2", True, made.created_at)
    disabled = await stub.AdminEngineVersionsDisable(pb.AdminEngineVersionsDisableRequest(id="1.2.3"))
    assert disabled.enabled is False
    enabled = await stub.AdminEngineVersionsUpdate(pb.AdminEngineVersionsUpdateRequest(
        id="1.2.3", body=pb.EngineVersionUpdateRequest(enabled=True)))
    assert (enabled.enabled, enabled.image_ref) == (True, "localhost/e:2")


async def test_bad_input_is_refused_and_changes_nothing(runtime):
    stub = runtime.stub
    for version in ("1.2", "v1.2.3", "01.2.3", "1.2.3.4", ""):
        error = await error_of(create(stub, version))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, version
        assert "is not a semantic version" in error.details()
    for image in ("has space", "nul\x00byte", "x" * 501, ""):
        error = await error_of(create(stub, "1.0.0", image=image))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "image_ref" in error.details(), image
    missing = await error_of(stub.AdminEngineVersionsDisable(pb.AdminEngineVersionsDisableRequest(id="9.9.9")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert list((await stub.AdminEngineVersionsList(pb.AdminEngineVersionsListRequest())).items) == []


async def test_concurrent_registrations_of_one_version_leave_one_winner(runtime):
    results = await asyncio.gather(*(create(runtime.stub, "2.0.0", image=f"img:{i}") for i in range(8)),
                                   return_exceptions=True)
    winners = [r for r in results if isinstance(r, pb.EngineVersion)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 7
    assert {e.code() for e in losers} == {grpc.StatusCode.ALREADY_EXISTS}
    assert "already registered" in losers[0].details()
    listed = await runtime.stub.AdminEngineVersionsList(pb.AdminEngineVersionsListRequest())
    assert [v.image_ref for v in listed.items] == [winners[0].image_ref]
