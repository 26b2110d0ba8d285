"""Per-country counting of user requests, off the request path (docs/geo.md, "The edge's observer").

Every `/api/v1/user/*` request that passed the identity gate and carries `X-Forwarded-For`
leaves one sighting (user id, the header as received, the time) in a bounded in-memory queue;
that is all the request pays: a scan of the raw header list, a length check and a deque append;
no decoding, no parsing, no await. One
background task sends the queue to geo's `ObserveClientAddresses` in batches: as soon as
`batch_max` sightings wait, else every `flush_interval` seconds; the sender cuts the header to
its first address, geo resolves it.

* **Full queue.** A sighting that finds `queue_max` others waiting is dropped: counted in
  `dropped` and logged (`geo observations dropped`, at most once per second, with the running
  total). Nothing else is lost: the request itself never waits or fails because of geo.
* **Geo unavailable** (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, CANCELLED): the batch
  goes back to the front of the queue and the sender backs off (0.2 s doubling to 5 s); while geo
  stays away the queue fills and then drops, as above.
* **Geo refuses the batch** (any other status, e.g. UNIMPLEMENTED from an older geo): the batch is
  discarded, counted in `refused` and logged at error level; retrying could only repeat the refusal.
* **Clean shutdown** (SIGTERM): after uvicorn finished the requests in flight, `stop` sends
  everything still queued, retrying an unavailable geo until the shutdown grace runs out; what
  could not be sent by then is counted in `lost_at_shutdown` and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable

import grpc
from google.protobuf import message_factory
from google.protobuf.message import Message

from galaxy_edge.downstream import Downstreams, Rpc, find_rpc
from galaxy_edge.settings import EdgeSettings

log = logging.getLogger(__name__)

#: geo's batch RPC (protos/galaxy/geo/v1/geo.proto).
GEO_OBSERVE_BATCH = ("geo", "ObserveClientAddresses")
#: Statuses that say "not now" rather than "never": the batch is kept and sent again.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
    }
)
FIRST_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0
#: Drops are logged at most this often (a flood must not turn into a flood of log lines).
DROP_LOG_INTERVAL_SECONDS = 1.0

#: The header's name as ASGI servers hand it over (lower case, bytes).
FORWARDED_FOR = b"x-forwarded-for"

Sighting = tuple[str, bytes, float]  # user id, X-Forwarded-For as received, epoch seconds


def build_geo_observer(settings: EdgeSettings, downstreams: Downstreams) -> GeoObserver | None:
    """The observer the settings ask for; None (nothing counted) when turned off or geo's stubs
    lack the batch RPC."""
    rpc = find_rpc(*GEO_OBSERVE_BATCH)
    if settings.geo_observe_queue_max == 0 or rpc is None:
        return None
    return GeoObserver(
        downstreams,
        rpc,
        queue_max=settings.geo_observe_queue_max,
        batch_max=settings.geo_observe_batch_max,
        flush_interval=settings.geo_observe_flush_interval_seconds,
    )


class GeoObserver:
    """The bounded queue of sightings and the task that sends it to geo in batches."""

    def __init__(
        self,
        downstreams: Downstreams,
        rpc: Rpc,
        *,
        queue_max: int,
        batch_max: int,
        flush_interval: float,
    ) -> None:
        self._downstreams = downstreams
        self._rpc = rpc
        self._observation_class = message_factory.GetMessageClass(
            rpc.request_class.DESCRIPTOR.fields_by_name["observations"].message_type
        )
        self.queue_max = queue_max
        self.batch_max = batch_max
        self.flush_interval = flush_interval
        self._pending: deque[Sighting] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_drop_log = 0.0
        #: Sightings geo acknowledged, dropped for a full queue, refused by geo, unsent at shutdown.
        self.sent = 0
        self.dropped = 0
        self.refused = 0
        self.lost_at_shutdown = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def observe(self, user_id: str, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Queue one sighting from the request's raw ASGI headers; never blocks, never raises.

        A scan of the raw list (the server lower-cases names) with no decoding and no exception
        for a missing header: cheaper than `Request.headers.get`. Without the header nothing is
        counted.
        """
        value = b""
        for name, header_value in headers:
            if name == FORWARDED_FOR:
                value = header_value
                break
        if not value:
            return
        pending = self._pending
        if len(pending) >= self.queue_max:
            self._drop()
            return
        pending.append((user_id, value, time.time()))
        if len(pending) >= self.batch_max and self._wake is not None:
            self._wake.set()

    def _drop(self) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now >= self._next_drop_log:
            self._next_drop_log = now + DROP_LOG_INTERVAL_SECONDS
            log.warning(
                "geo observations dropped: the queue holds its maximum of %d (%d dropped so far)",
                self.queue_max,
                self.dropped,
            )

    # -- the sender ----------------------------------------------------------------------------

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="geo-observer")

    async def stop(self, grace: float) -> None:
        """Send everything queued (until `grace` seconds have passed), then stop."""
        deadline = time.monotonic() + grace
        self._stopping = True
        if self._task is not None:
            assert self._wake is not None
            self._wake.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drain(deadline=deadline)
        if self._pending:
            self.lost_at_shutdown += len(self._pending)
            log.error(
                "geo observations lost at shutdown: %d could not be sent within %.1f s",
                len(self._pending),
                grace,
            )
            self._pending.clear()
        log.info(
            "geo observer stopped: %d sent, %d dropped (queue full), %d refused by geo",
            self.sent,
            self.dropped,
            self.refused,
        )

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            if not self._stopping:
                await self._drain(deadline=None)

    async def _drain(self, *, deadline: float | None) -> None:
        """Send batches until the queue is empty; on an unavailable geo, back off and try again
        (until `deadline`, or, without one, give the loop back so new sightings keep queueing)."""
        backoff = FIRST_BACKOFF_SECONDS
        while self._pending:
            batch = [
                self._pending.popleft() for _ in range(min(self.batch_max, len(self._pending)))
            ]
            outcome = await self._send(batch, deadline)
            if outcome != "retry":
                backoff = FIRST_BACKOFF_SECONDS
                continue
            self._requeue(batch)
            if deadline is None:
                if self._stopping:
                    return
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(backoff, remaining))
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        """Back off, but wake at once for a shutdown."""
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _requeue(self, batch: list[Sighting]) -> None:
        """Put an unsent batch back in front; what no longer fits under the bound is dropped."""
        room = max(self.queue_max - len(self._pending), 0)
        kept = batch[:room]
        for _ in batch[room:]:
            self._drop()
        self._pending.extendleft(reversed(kept))

    async def _send(self, batch: list[Sighting], deadline: float | None) -> str:
        message = self._request(batch)
        timeout = self._downstreams.timeout
        if deadline is not None:
            timeout = max(min(timeout, deadline - time.monotonic()), 0.05)
        try:
            await self._downstreams.callable_for(self._rpc)(message, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            if error.code() in RETRYABLE:
                log.warning(
                    "geo cannot take %d observations now (%s); retrying",
                    len(batch),
                    error.code().name,
                )
                return "retry"
            self.refused += len(batch)
            log.error(
                "geo refused %d observations: %s %s (%d refused so far)",
                len(batch),
                error.code().name,
                error.details(),
                self.refused,
            )
            return "refused"
        except Exception:
            # A bug, not geo's answer: never let it end the sender (the queue would only fill).
            self.refused += len(batch)
            log.exception("geo observations could not be sent: %d discarded", len(batch))
            return "refused"
        self.sent += len(batch)
        return "sent"

    def _request(self, batch: list[Sighting]) -> Message:
        make = self._observation_class
        observations = []
        for user_id, forwarded_for, at in batch:
            first = forwarded_for.split(b",", 1)[0].strip()[:128].decode("latin-1")
            observation = make(user_id=user_id, client_address=first)
            seconds = int(at)
            observation.observed_at.seconds = seconds
            observation.observed_at.nanos = int((at - seconds) * 1e9)
            observations.append(observation)
        return self._rpc.request_class(observations=observations)
