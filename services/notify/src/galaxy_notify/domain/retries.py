"""Push retries, dead letters and e-mail of notifications no push consumer took.

Any number of replicas run it side by side (`FOR UPDATE SKIP LOCKED`). A pending notification
is due `retry_base` seconds after it was stored, then after doubling waits up to `retry_max`.
At each due time it is still pending, so no push stream sent it: an attempt is counted; at
`max_attempts` it is dead-lettered. When no push consumer is connected at all at an attempt and
its kind deserves an e-mail (domain/kinds.py), the e-mail goes to mail once (mail's idempotency
key `notify:<notification_id>`), after the transaction, never inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from galaxy_kit.db import transaction
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_notify.clients import Mailer
from galaxy_notify.domain import kinds
from galaxy_notify.repository import queries
from galaxy_notify.repository.queries import NotificationRow

log = structlog.get_logger(__name__)

BATCH = 100
NO_CONSUMER = "no push consumer connected"
NOT_TAKEN = "not sent on any push stream yet"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    def wait_after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (base, 2×base, 4×base, ... capped)."""
        return timedelta(seconds=min(self.base_seconds * 2 ** attempts, self.max_seconds))


class RetryWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], mailer: Mailer | None, *,
                 policy: RetryPolicy, interval: float) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.policy = policy
        self.interval = interval
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.tick(_now())
            except Exception as error:  # noqa: BLE001 - PostgreSQL or a neighbour away: next tick
                log.warning("push_retry_tick_failed", error=repr(error)[:300])
                handled = 0
            if handled < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def stop(self) -> None:
        self._stopping.set()

    async def tick(self, now: datetime) -> int:
        """Count the attempts of the due notifications; e-mail those that deserve it. Returns how many."""
        to_email: list[NotificationRow] = []
        async with transaction(self.sessions) as session:
            due = await queries.claim_due(session, now, BATCH)
            if not due:
                return 0
            connected = await queries.any_consumer_connected(session, now)
            error = NOT_TAKEN if connected else NO_CONSUMER
            for row in due:
                attempts = row.attempts + 1
                if attempts >= self.policy.max_attempts:
                    reason = f"{error} after {attempts} attempts"
                    await queries.dead_letter(session, row.notification_id, attempts=attempts, reason=reason,
                                              now=now)
                    log.warning("notification_dead_lettered", notification_id=str(row.notification_id),
                                kind=row.kind, attempts=attempts)
                else:
                    await queries.count_attempt(session, row.notification_id, attempts=attempts, error=error,
                                                next_attempt_at=now + self.policy.wait_after(attempts))
                if not connected and row.emailed_at is None and kinds.KINDS[row.kind].email_template:
                    to_email.append(row)
        for row in to_email:
            await self._email(row)
        return len(due)

    async def _email(self, row: NotificationRow) -> None:
        if self.mailer is None:
            return
        template = kinds.KINDS[row.kind].email_template
        assert template is not None
        try:
            recipient = await self.mailer.recipient(str(row.user_id))
            if recipient is not None:
                await self.mailer.send(
                    idempotency_key=f"notify:{row.notification_id}", template_id=template, recipient=recipient,
                    variables={k: str(v) for k, v in row.payload.items()},
                )
            async with transaction(self.sessions) as session:
                await queries.mark_emailed(session, row.notification_id, _now())
        except Exception as error:  # noqa: BLE001 - tried again at the next attempt
            log.warning("notification_email_failed", notification_id=str(row.notification_id),
                        error=repr(error)[:300])
            return
        log.info("notification_emailed", notification_id=str(row.notification_id), kind=row.kind,
                 template=template, sent=recipient is not None)
