"""What a service answers when a gRPC call to another service fails.

Fail closed: a downstream that is down, too slow, or does not implement the
method (UNIMPLEMENTED: a deployment older than its caller) becomes `Unavailable`
(503 at the edge), so a check that cannot be made refuses the request and never
lets it through; anything else is a bug somewhere, logged and raised as
`DownstreamError` (answered INTERNAL). Never let an AioRpcError escape into a servicer: the kit
would report it as UNKNOWN.
"""

from __future__ import annotations

import grpc

from galaxy_kit.errors import Unavailable
from galaxy_kit.logging import get_logger

log = get_logger(__name__)

UNAVAILABLE = frozenset({
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
})


class DownstreamError(RuntimeError):
    """A downstream answered something the caller cannot act on; becomes INTERNAL."""


def downstream_failure(service: str, method: str, error: grpc.aio.AioRpcError) -> Exception:
    """The exception to raise for a failed call of `service`.`method`."""
    if error.code() in UNAVAILABLE:
        log.warning("downstream_unavailable", service=service, method=method, code=error.code().name)
        return Unavailable(f"the {service} service is unavailable, try again later")
    log.error("downstream_failed", service=service, method=method, code=error.code().name,
              details=error.details())
    return DownstreamError(f"{service}.{method} answered {error.code().name}")
