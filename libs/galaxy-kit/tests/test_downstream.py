"""A failed call to another service: fail closed, never let the request through."""

from __future__ import annotations

import grpc
import pytest
from galaxy_kit.downstream import DownstreamError, downstream_failure
from galaxy_kit.errors import Unavailable


def _error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="boom")


@pytest.mark.parametrize("code", [
    grpc.StatusCode.UNIMPLEMENTED,  # a neighbour older than its caller: the check cannot be made
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
])
def test_a_call_that_could_not_be_made_is_unavailable(code: grpc.StatusCode) -> None:
    failure = downstream_failure("account", "ResolveUserIdentity", _error(code))
    assert isinstance(failure, Unavailable)
    assert failure.status_code == grpc.StatusCode.UNAVAILABLE
    assert "account" in failure.message


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL,
                                  grpc.StatusCode.PERMISSION_DENIED])
def test_any_other_answer_is_a_bug_answered_internal(code: grpc.StatusCode) -> None:
    failure = downstream_failure("mail", "EnqueueDelivery", _error(code))
    assert isinstance(failure, DownstreamError)
    assert code.name in str(failure)
