"""The delivery worker: claims due deliveries, sends them over SMTP, records every attempt.

One per mail process (`context.workers`); any number of mail replicas may run
their workers against the same database (domain/sending.py says why no
delivery is ever sent by two at once).

Wake-up: the worker LISTENs on `galaxy_mail_deliveries`, which enqueue and
resend NOTIFY when they commit, so a new delivery leaves within milliseconds;
it also polls every `poll_interval` seconds for retries that came due and for
leases that ran out. Without the LISTEN connection (database restarting) it
keeps polling and re-LISTENs later.

Batches: up to `max_batches` (by default GALAXY_SMTP_CONNECTIONS) claimed batches are
in flight at once, sharing the sender's pool of SMTP connections; the worker
claims again as soon as one slot is free, so a delivery stored while others
are being sent waits for a free slot, not for a whole batch's conversations.
Under load the slots are busy and the claims grow towards `batch_size`; when
it is quiet each claim takes what just arrived.

Stop: `stop()` lets the batches in flight finish (each SMTP conversation is
bounded by the SMTP timeout) for up to `stop_grace` seconds, then cancels the
conversations still running; their attempts are recorded as failed and retried
later (a message the server had accepted just before may then arrive twice:
delivery is at-least-once across crashes and forced stops, never concurrent).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from datetime import timedelta
from typing import Any

from galaxy_kit.logging import get_logger
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from galaxy_mail.domain.retry import RetryPolicy
from galaxy_mail.domain.sending import Claim, claim_due, finish, finish_sent
from galaxy_mail.domain.templates import TemplateCatalog, TemplateError
from galaxy_mail.repository.deliveries import WAKEUP_CHANNEL
from galaxy_mail.smtp import SendResult, SmtpSender

log = get_logger(__name__)

ATTEMPTS_TOTAL = Counter("galaxy_mail_attempts_total", "SMTP delivery attempts", ["outcome"])
#: Back-off after a failed claim (database unavailable), doubling up to the maximum.
ERROR_BACKOFF_SECONDS = 0.5
MAX_ERROR_BACKOFF_SECONDS = 10.0
DEFAULT_STOP_GRACE_SECONDS = 10.0


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        catalog: TemplateCatalog,
        sender: SmtpSender,
        policy: RetryPolicy,
        lease_seconds: float,
        poll_interval: float,
        batch_size: int,
        stop_grace: float = DEFAULT_STOP_GRACE_SECONDS,
        max_batches: int | None = None,
        listen: bool = True,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.catalog = catalog
        self.sender = sender
        self.policy = policy
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.stop_grace = stop_grace
        self.listen = listen
        self.name = name or default_worker_name()
        self.rng = rng
        self.attempted = 0
        self._stopping = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._sends: set[asyncio.Task[None]] = set()
        #: Batches in flight (claimed, being sent or recorded); at most `max_batches` at once.
        self._batches: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self.max_batches = max_batches or sender.connections
        self._listener: AsyncConnection | None = None
        self._log = log.bind(worker=self.name)

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        if self._running:
            raise RuntimeError("this worker is already running")
        self._running = True
        backoff = ERROR_BACKOFF_SECONDS
        self._log.info("mail_worker_started", max_batches=self.max_batches)
        try:
            while not self._stopping.is_set():
                # Claim as soon as a batch slot is free: rows stored while the batches in flight
                # talk SMTP are claimed then, instead of after the slowest conversation of one batch.
                await self._slot_free()
                if self._stopping.is_set():
                    break
                self._wakeup.clear()  # before claiming, so a NOTIFY during the claim is not lost
                try:
                    await self._ensure_listener()
                    claimed_at = asyncio.get_running_loop().time()  # at or before the leases' start
                    claims = await claim_due(
                        self.sessions, catalog=self.catalog, worker=self.name, policy=self.policy,
                        lease=self.lease, limit=self.batch_size,
                    )
                except Exception as exc:  # noqa: BLE001 - a worker outlives database outages
                    self._log.warning("mail_claim_failed", error=repr(exc))
                    await self._close_listener()
                    await self._pause(backoff)
                    backoff = min(backoff * 2, MAX_ERROR_BACKOFF_SECONDS)
                    continue
                backoff = ERROR_BACKOFF_SECONDS
                if not claims:
                    if not self._batches:
                        self.sender.prune_idle()
                    await self._pause(self.poll_interval)
                    continue
                batch = asyncio.create_task(self._deliver(claims, claimed_at))
                self._batches.add(batch)
                batch.add_done_callback(self._batch_done)
        finally:
            if self._batches:
                await asyncio.gather(*self._batches, return_exceptions=True)
            await self._close_listener()
            await self.sender.close()
            self._done.set()
            self._log.info("mail_worker_stopped")

    def _batch_done(self, batch: asyncio.Task[None]) -> None:
        self._batches.discard(batch)
        self._slot_freed.set()
        if not batch.cancelled() and batch.exception() is not None:
            self._log.error("mail_batch_crashed", error=repr(batch.exception()))

    async def _slot_free(self) -> None:
        while len(self._batches) >= self.max_batches and not self._stopping.is_set():
            self._slot_freed.clear()
            await self._slot_freed.wait()

    async def stop(self) -> None:
        """Finish the batches in flight (cancel their sends after `stop_grace`) and return once `run()` has."""
        self._stopping.set()
        self._wakeup.set()
        self._slot_freed.set()
        if not self._running:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._done.wait()), self.stop_grace)
        except TimeoutError:
            for task in list(self._sends):
                task.cancel()
            await self._done.wait()

    # -- one batch of deliveries -----------------------------------------------------------------

    async def _deliver(self, claims: list[Claim], claimed_at: float) -> None:
        results = await self._attempt(claims, claimed_at)
        for result in results:
            ATTEMPTS_TOTAL.labels(result.outcome).inc()
        self.attempted += len(claims)
        sent = [claim for claim, result in zip(claims, results, strict=True) if result.outcome == "sent"]
        if sent:
            try:
                await finish_sent(self.sessions, sent)
            except Exception as exc:  # noqa: BLE001
                # The leases run out and the deliveries are tried again (at-least-once).
                self._log.warning("mail_attempts_not_recorded", count=len(sent), outcome="sent", error=repr(exc))
            else:
                self._log.debug("mail_sent", count=len(sent))
        await asyncio.gather(*(
            self._finish(claim, result)
            for claim, result in zip(claims, results, strict=True) if result.outcome != "sent"
        ))

    async def _finish(self, claim: Claim, result: SendResult) -> None:
        try:
            status = await finish(
                self.sessions, catalog=self.catalog, claim=claim, result=result, policy=self.policy,
                rng=self.rng,
            )
        except Exception as exc:  # noqa: BLE001
            # The lease runs out and the delivery is tried again (at-least-once).
            self._log.warning("mail_attempt_not_recorded", delivery_id=str(claim.delivery_id),
                              attempt_no=claim.attempt_no, outcome=result.outcome, error=repr(exc))
            return
        self._log.info("mail_attempt", delivery_id=str(claim.delivery_id), attempt_no=claim.attempt_no,
                       outcome=result.outcome, error=result.error, status=status)

    async def _attempt(self, claims: list[Claim], claimed_at: float) -> list[SendResult]:
        """Render and send the batch (SMTP connections reused across it); one result per claim."""
        results: list[SendResult | None] = [None] * len(claims)
        outgoing: list[int] = []
        messages = []
        for index, claim in enumerate(claims):
            try:
                mail = self.catalog.render(claim.template_id, claim.locale, claim.variables)
            except TemplateError as exc:
                results[index] = SendResult("rejected", f"cannot render the template: {exc.message}")
                continue
            outgoing.append(index)
            message = self.sender.build(delivery_id=str(claim.delivery_id), recipient=claim.recipient, mail=mail)
            messages.append((message, claim.recipient))
        sent: list[SendResult | None] = [None] * len(messages)
        missing = "the worker stopped during the attempt"
        if messages:
            # No conversation may start that could outlive the lease (one delivery, one sender).
            start_by = claimed_at + self.lease.total_seconds() - self.sender.timeout
            task = asyncio.create_task(self.sender.send_batch(messages, sent, start_by=start_by))
            self._sends.add(task)
            try:
                await task
            except asyncio.CancelledError:
                if not (task.cancelled() and not self._cancelled(asyncio.current_task())):
                    raise
            except Exception as exc:  # noqa: BLE001 - a bug in sending must not stop the worker
                self._log.exception("mail_send_crashed", count=len(messages))
                missing = f"internal error: {type(exc).__name__}"
            finally:
                self._sends.discard(task)
        for index, result in zip(outgoing, sent, strict=True):
            results[index] = result or SendResult("failed", missing)
        return [result or SendResult("failed", missing) for result in results]

    @staticmethod
    def _cancelled(task: asyncio.Task[Any] | None) -> bool:
        return task is not None and task.cancelling() > 0

    # -- waking up -----------------------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        except TimeoutError:
            pass

    def _on_notify(self, *_args: Any) -> None:
        self._wakeup.set()

    async def _ensure_listener(self) -> None:
        if not self.listen:
            return
        if self._listener is not None:
            raw = await self._listener.get_raw_connection()
            driver = raw.driver_connection
            if driver is not None and not driver.is_closed():
                return
            await self._close_listener()
        conn = await self.engine.connect()
        try:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.add_listener(WAKEUP_CHANNEL, self._on_notify)
        except BaseException:
            await _discard(conn)
            raise
        self._listener = conn

    async def _close_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Close the server connection itself (drops the LISTEN); never hand it back to the pool."""
    try:
        await conn.invalidate()
    except Exception:  # noqa: BLE001
        pass
    try:
        await conn.close()
    except Exception:  # noqa: BLE001
        pass
