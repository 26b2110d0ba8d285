"""Push streams: each push consumer (a gateway) gets every notification once, in order, resumable.

The notifications table is the log (`seq` is its order, repository/tables.py). A stream for
consumer C:

1. holds C's session-level advisory lock on a connection of its own, so across every notify
   replica at most one stream sends to C; another stream for C waits as a standby and takes
   over when the first one ends (its connection closing releases the lock, even on a crash);
2. starts after the seq of the `last_event_id` the consumer gives, else after C's saved
   cursor, else (a consumer never seen) before the oldest notification still pending;
3. sends every notification after its cursor in seq order, then marks the pending ones
   delivered and saves the cursor and the consumer's lease, in one transaction;
4. waits for a NOTIFY from an intake commit (or the poll interval) and goes on.

While a stream holds C, C's lease (`connected_until`) is renewed every heartbeat; the retry
worker (domain/retries.py) counts a pending notification's attempt as failed for lack of any
connected consumer while no lease is current.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa
import structlog
from galaxy.notify.v1 import notify_pb2
from galaxy_kit.db import plain_dsn
from galaxy_kit.errors import InvalidArgument
from galaxy_kit.proto import timestamp
from google.protobuf.struct_pb2 import Struct
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from galaxy_notify.repository import queries
from galaxy_notify.repository.queries import NotificationRow

log = structlog.get_logger(__name__)

BATCH = 200
#: How often a standby stream tries the consumer's lock again.
STANDBY_RETRY_SECONDS = 0.5


def _now() -> datetime:
    return datetime.now(UTC)


def _lock_key(consumer_id: str) -> int:
    digest = hashlib.blake2b(f"notify.push-consumer:{consumer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def push_event(row: NotificationRow) -> notify_pb2.PushEvent:
    payload = Struct()
    payload.update(row.payload)
    return notify_pb2.PushEvent(
        event_id=str(row.notification_id), user_id=str(row.user_id), kind=row.kind,
        occurred_at=timestamp(row.occurred_at), payload=payload,
    )


class PushHub:
    """Wakes this process's push streams when a notification commits anywhere (LISTEN/NOTIFY).

    A background worker: it keeps one LISTEN connection (reconnecting after a failure) and
    hands streams an event that is set, and replaced, on every NOTIFY.
    """

    def __init__(self, engine: AsyncEngine, dsn: str, *, poll_interval: float, heartbeat: float) -> None:
        self.engine = engine
        self.dsn = plain_dsn(dsn)
        self.poll_interval = poll_interval
        self.heartbeat = heartbeat
        self.lease = timedelta(seconds=heartbeat * 3)
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self.streams = 0

    # -- the LISTEN worker -----------------------------------------------------------------------

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                connection = await asyncpg.connect(self.dsn)
            except Exception as error:  # noqa: BLE001 - PostgreSQL away: streams still poll
                log.warning("push_listen_unavailable", error=repr(error)[:200])
                await self._sleep(self.poll_interval)
                continue
            try:
                await connection.add_listener(queries.PUSH_CHANNEL, self._on_notify)
                self._wake()  # anything committed while not listening
                while not self._stopping.is_set() and not connection.is_closed():
                    await self._sleep(self.poll_interval)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)

    async def stop(self) -> None:
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _on_notify(self, *_args: object) -> None:
        self._wake()

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, asyncio.Event()
        wakeup.set()

    # -- one stream ------------------------------------------------------------------------------

    async def stream(self, consumer_id: str, last_event_id: str) -> AsyncIterator[notify_pb2.PushEvent]:
        if not consumer_id:
            raise InvalidArgument("consumer_id is required")
        resume_after = _event_uuid(last_event_id)
        connection = await self.engine.connect()
        self.streams += 1
        progress = _Progress()
        try:
            await self._hold(connection, consumer_id)
            progress.saved = progress.sent = await self._start(connection, consumer_id, resume_after)
            log.info("push_stream_open", consumer_id=consumer_id, cursor=progress.sent)
            async for event in self._send_from(connection, consumer_id, progress):
                yield event
        finally:
            self.streams -= 1
            await asyncio.shield(self._close(connection, consumer_id, progress))

    async def _hold(self, connection: AsyncConnection, consumer_id: str) -> None:
        """Wait until this stream holds the consumer (standby while another stream does)."""
        key = _lock_key(consumer_id)
        logged = False
        while True:
            async with connection.begin():
                held = (await connection.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar_one()
            if held:
                return
            if not logged:
                log.info("push_stream_standby", consumer_id=consumer_id)
                logged = True
            await asyncio.sleep(STANDBY_RETRY_SECONDS)

    async def _start(self, connection: AsyncConnection, consumer_id: str, resume_after: uuid.UUID | None) -> int:
        async with connection.begin():
            if resume_after is not None:
                cursor = await queries.seq_of(connection, resume_after)
                if cursor is None:
                    raise InvalidArgument(
                        f"last_event_id {resume_after} is not a notification notify keeps; "
                        "subscribe without it to resume from the consumer's saved position"
                    )
            else:
                cursor = await queries.consumer_cursor(connection, consumer_id)
                if cursor is None:
                    cursor = await queries.start_of_new_consumer(connection)
            now = _now()
            await queries.save_consumer(connection, consumer_id, last_seq=cursor,
                                        connected_until=now + self.lease, now=now)
        return cursor

    async def _send_from(self, connection: AsyncConnection, consumer_id: str,
                         progress: _Progress) -> AsyncIterator[notify_pb2.PushEvent]:
        renewed_at = asyncio.get_running_loop().time()
        while True:
            wakeup = self._wakeup  # taken before reading, so a NOTIFY during the read is not lost
            async with connection.begin():
                rows = await queries.after(connection, progress.sent, BATCH)
            for row in rows:
                # Handed to gRPC at the yield: counted as sent even if the stream ends right there.
                progress.sent = row.seq
                if row.status == queries.PENDING:
                    progress.unmarked.append(row.seq)
                yield push_event(row)
            if progress.sent != progress.saved or \
                    asyncio.get_running_loop().time() - renewed_at >= self.heartbeat:
                await self._save(connection, consumer_id, progress)
                renewed_at = asyncio.get_running_loop().time()
            if rows:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), min(self.poll_interval, self.heartbeat))

    async def _save(self, connection: AsyncConnection, consumer_id: str, progress: _Progress, *,
                    connected: bool = True) -> None:
        """Mark what was sent delivered and save the cursor (and renew the lease, or end it)."""
        now = _now()
        sent, delivered = progress.sent, list(progress.unmarked)
        async with connection.begin():
            if delivered:
                await queries.mark_delivered(connection, delivered, now)
            await queries.save_consumer(connection, consumer_id, last_seq=sent,
                                        connected_until=now + self.lease if connected else None, now=now)
        progress.saved = sent
        del progress.unmarked[:len(delivered)]

    async def _close(self, connection: AsyncConnection, consumer_id: str, progress: _Progress) -> None:
        """Save what was sent and end the lease, then drop the connection (releasing the lock)."""
        try:
            if connection.in_transaction():
                await connection.rollback()
            if progress.sent is not None:  # None: never held the consumer, nothing of ours to save
                await self._save(connection, consumer_id, progress, connected=False)
        except Exception as error:  # noqa: BLE001 - the lease then simply runs out
            log.warning("push_stream_close_failed", consumer_id=consumer_id, error=repr(error)[:200])
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
        log.info("push_stream_closed", consumer_id=consumer_id, cursor=progress.sent)


@dataclass
class _Progress:
    """How far one stream got: handed to gRPC (`sent`), saved in push_consumers (`saved`)."""

    sent: int | None = None
    saved: int | None = None
    unmarked: list[int] = field(default_factory=list)


def _event_uuid(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(f"last_event_id is not a UUID: {value!r}") from None
