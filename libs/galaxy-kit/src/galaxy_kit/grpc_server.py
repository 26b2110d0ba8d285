"""The gRPC server every service runs: domain-error mapping, metrics, health.

Servicers are plain grpc.aio servicers. Methods a service has not built yet
are inherited from the generated base class and answer UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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

    Unary and server-streaming methods are wrapped alike: a stream's error (raised before or
    between its messages) is mapped the same way, and its latency is the life of the stream.
    Client-streaming and bidirectional methods are passed through unwrapped (no service has any).

    The wrapped handler of a method is built once and reused: servicers are
    registered before the server starts and never change, and grpc.aio asks the
    interceptor on every call.
    """

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        if handler.unary_unary is not None:
            wrapped = self._wrapped[method] = _wrap(method, handler)
            return wrapped
        if handler.unary_stream is not None:
            wrapped = self._wrapped[method] = _wrap_stream(method, handler)
            return wrapped
        return handler


class _CallMetrics:
    """Latency and outcome counters of one method, label children built once."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.seconds = RPC_SECONDS.labels(method)
        self._totals: dict[str, Any] = {}

    def record(self, started: float, code: Any) -> None:
        self.seconds.observe(time.perf_counter() - started)
        name = code.name if hasattr(code, "name") else str(code)
        counter = self._totals.get(name)
        if counter is None:
            counter = self._totals[name] = RPC_TOTAL.labels(self.method, name)
        counter.inc()


async def _abort_for(error: BaseException, method: str, context: grpc.aio.ServicerContext) -> Any:
    """Abort the call with the status `error` maps to; returns the code when it re-raises instead.

    grpc's own abort (and any RpcError) is re-raised untouched; everything else ends in
    `context.abort`, which raises.
    """
    if isinstance(error, DomainError):
        await context.abort(error.status_code, error.message)
    if isinstance(error, NotImplementedError):
        # The generated base class sets UNIMPLEMENTED and raises this.
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "method not implemented")
    if isinstance(error, (grpc.aio.AbortError, grpc.RpcError)):
        return context.code() or grpc.StatusCode.UNKNOWN
    if is_unavailable(error):
        # PostgreSQL down, restarting or out of connections: transient, the client retries.
        log.warning("rpc_database_unavailable", method=method, error=repr(error)[:300])
        await context.abort(grpc.StatusCode.UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE)
    log.error("rpc_failed", method=method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE)
    return grpc.StatusCode.INTERNAL  # not reached: abort raises


def _code_of(error: BaseException, context: grpc.aio.ServicerContext) -> Any:
    if isinstance(error, DomainError):
        return error.status_code
    if isinstance(error, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED
    if isinstance(error, (grpc.aio.AbortError, grpc.RpcError)):
        return context.code() or grpc.StatusCode.UNKNOWN
    if is_unavailable(error):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


def _wrap(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    inner = handler.unary_unary
    metrics = _CallMetrics(method)

    async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        code: Any = grpc.StatusCode.OK
        try:
            return await _call(inner, request, context)
        except Exception as error:
            code = _code_of(error, context)
            await _abort_for(error, method, context)
            raise
        finally:
            metrics.record(started, code)

    return grpc.unary_unary_rpc_method_handler(
        unary_unary,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _wrap_stream(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A server-streaming method: an async generator (or a coroutine writing with context.write)."""
    inner = handler.unary_stream
    metrics = _CallMetrics(method)

    async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        started = time.perf_counter()
        code: Any = grpc.StatusCode.OK
        try:
            result = inner(request, context)
            if inspect.isasyncgen(result):
                async for message in result:
                    yield message
            elif inspect.isawaitable(result):
                await result
            else:
                for message in result or ():
                    yield message
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED  # the client went away
            raise
        except Exception as error:
            code = _code_of(error, context)
            await _abort_for(error, method, context)
            raise
        finally:
            metrics.record(started, code)

    return grpc.unary_stream_rpc_method_handler(
        unary_stream,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


#: Server-side HTTP/2 settings. Clients (the edge, other services) keep one long-lived channel
#: each and ping it every 30 s; the server accepts pings that often, pings idle clients itself
#: so dead peers are found, and lets many calls share one connection.
SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.max_concurrent_streams", 1024),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
]

def build_server(*, reuse_port: bool = False) -> grpc.aio.Server:
    return grpc.aio.server(
        interceptors=[DomainErrorInterceptor()],
        options=[("grpc.so_reuseport", 1 if reuse_port else 0), *SERVER_OPTIONS],
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
