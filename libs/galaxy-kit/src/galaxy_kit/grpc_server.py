"""The gRPC server every service runs: domain-error mapping, metrics, health.

Servicers are plain grpc.aio servicers. Methods a service has not built yet
are inherited from the generated base class and answer UNIMPLEMENTED.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import Counter, Histogram

from galaxy_kit.db import is_unavailable
from galaxy_kit.errors import DomainError
from galaxy_kit.logging import get_logger

log = get_logger(__name__)

RPC_TOTAL = Counter("galaxy_grpc_requests_total", "gRPC requests handled", ["method", "code"])
RPC_SECONDS = Histogram("galaxy_grpc_request_seconds", "gRPC request latency", ["method"])

INTERNAL_ERROR_MESSAGE = "internal error"
DATABASE_UNAVAILABLE_MESSAGE = "the database is unavailable, try again later"


async def _call(handler: Callable[..., Any], request: Any, context: grpc.aio.ServicerContext) -> Any:
    result = handler(request, context)
    if inspect.isawaitable(result):
        result = await result
    return result


class DomainErrorInterceptor(grpc.aio.ServerInterceptor):
    """Turns domain errors into statuses, never leaks an unexpected exception, counts calls.

    A database that cannot be reached (galaxy_kit.db.is_unavailable) is UNAVAILABLE, not
    INTERNAL: the edge answers 503 and the client retries once PostgreSQL is back.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return await _call(inner, request, context)
            except DomainError as error:
                code = error.status_code
                await context.abort(error.status_code, error.message)
            except NotImplementedError:
                # The generated base class sets UNIMPLEMENTED and raises this.
                code = grpc.StatusCode.UNIMPLEMENTED
                await context.abort(code, "method not implemented")
            except (grpc.aio.AbortError, grpc.RpcError):
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except Exception as error:
                if is_unavailable(error):
                    # PostgreSQL down, restarting or out of connections: transient, the client retries.
                    code = grpc.StatusCode.UNAVAILABLE
                    log.warning("rpc_database_unavailable", method=method, error=repr(error)[:300])
                    await context.abort(code, DATABASE_UNAVAILABLE_MESSAGE)
                code = grpc.StatusCode.INTERNAL
                log.exception("rpc_failed", method=method)
                await context.abort(code, INTERNAL_ERROR_MESSAGE)
            finally:
                RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
                RPC_TOTAL.labels(method, code.name if hasattr(code, "name") else str(code)).inc()

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def build_server() -> grpc.aio.Server:
    return grpc.aio.server(
        interceptors=[DomainErrorInterceptor()],
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 4 * 1024 * 1024),
        ],
    )


class HealthReporter:
    """Owns the grpc.health.v1 service: NOT_SERVING until the service says it is ready."""

    def __init__(self, server: grpc.aio.Server, service_names: list[str]) -> None:
        self._servicer = health.aio.HealthServicer()
        self._names = ["", *service_names]
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, server)

    async def set(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self._names:
            await self._servicer.set(name, status)

    async def shutdown(self) -> None:
        await self._servicer.enter_graceful_shutdown()
