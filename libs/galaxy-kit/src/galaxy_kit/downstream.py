"""What a service answers when a gRPC call to another service fails.

A downstream that is down or too slow becomes `Unavailable` (503 at the edge);
one that does not implement the method yet becomes `DependencyNotBuilt` (501);
anything else is a bug somewhere, logged and raised as `DownstreamError`
(answered INTERNAL). Never let an AioRpcError escape into a servicer: the kit
would report it as UNKNOWN.
"""

from __future__ import annotations

import grpc

from galaxy_kit.errors import DomainError, Unavailable
from galaxy_kit.logging import get_logger

log = get_logger(__name__)

TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
})


class DownstreamError(RuntimeError):
    """A downstream answered something the caller cannot act on; becomes INTERNAL."""


class DependencyNotBuilt(DomainError):
    """The downstream does not implement the method yet: answered UNIMPLEMENTED (501 at the edge)."""

    status_code = grpc.StatusCode.UNIMPLEMENTED


def downstream_failure(service: str, method: str, error: grpc.aio.AioRpcError) -> Exception:
    """The exception to raise for a failed call of `service`.`method`."""
    if error.code() == grpc.StatusCode.UNIMPLEMENTED:
        log.warning("downstream_unimplemented", service=service, method=method)
        return DependencyNotBuilt(f"the {service} service cannot do this yet")
    if error.code() in TRANSIENT:
        log.warning("downstream_unavailable", service=service, method=method, code=error.code().name)
        return Unavailable(f"the {service} service is unavailable, try again later")
    log.error("downstream_failed", service=service, method=method, code=error.code().name,
              details=error.details())
    return DownstreamError(f"{service}.{method} answered {error.code().name}")
