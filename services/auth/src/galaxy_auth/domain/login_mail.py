"""The login-mail queue: codes reach mail after the challenge is committed, never inside its transaction.

send_email_code writes the challenge and its queue row (code sealed) in one
statement, the row already leased to this replica, then hands the code to mail
at once (no claim needed), so a code normally leaves within milliseconds; codes
that arrive while a call to mail is under way go together in the next call
(`EnqueueDeliveries`, one delivery per code). A background worker on every replica drains whatever is
still due: rows whose immediate dispatch failed (mail down, slow, refusing)
or whose replica died. Each try leases the row first (repository/login_mail),
calls mail's EnqueueDelivery with the challenge id as idempotency key, and
deletes the row once mail accepted it; a failure schedules the next try with
exponential backoff. A row whose challenge expired is dropped: its code can
no longer be confirmed. So mail being slow or down never holds a database
lock or connection, and never loses an accepted code request.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import nacl.exceptions
from galaxy_kit.coalesce import Coalescer
from galaxy_kit.db import Reads
from galaxy_kit.logging import get_logger

from galaxy_auth.domain import codes
from galaxy_auth.domain.ports import LoginCodeMail, MailSender
from galaxy_auth.repository import login_mail as repo

log = get_logger(__name__)

#: Rows leased per round of the worker (handed to mail in one call).
BATCH_SIZE = 50
#: The most codes one call to mail carries (mail takes up to 500).
MAX_CODES_PER_CALL = 200
#: First retry delay; doubles per failed try up to the configured maximum.
FIRST_BACKOFF_SECONDS = 0.5
#: A lease outlives the mail call's deadline by this much.
LEASE_MARGIN_SECONDS = 5.0


@dataclass(frozen=True)
class LoginMailPolicy:
    seal_key: bytes
    #: The mail call's deadline (the lease is longer).
    call_timeout: float
    poll_interval: float
    max_backoff: float

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.call_timeout + LEASE_MARGIN_SECONDS)

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), self.max_backoff))


class LoginMailDispatcher:
    """Hands queued login codes to mail: at once after a commit, and from a worker loop (a BackgroundWorker)."""

    def __init__(self, reads: Reads, mail: MailSender, policy: LoginMailPolicy) -> None:
        self._reads = reads
        self._mail = mail
        self._policy = policy
        self._stopped = asyncio.Event()
        #: Rows written leased to this replica, with the loop time they came, on their way to mail.
        self._handing: Coalescer[tuple[repo.LoginMailRow, float]] = Coalescer(
            self._hand_over, name="login codes to mail", max_batch=MAX_CODES_PER_CALL
        )
        #: Rows mail accepted, on their way to one DELETE (see `_forget`).
        self._forgetting: Coalescer[uuid.UUID] = Coalescer(self._delete_accepted, name="mailed login codes")

    @property
    def lease(self) -> timedelta:
        """How long a row written for `dispatch_soon` stays this replica's before any worker may take it."""
        return self._policy.lease

    def dispatch_soon(self, row: repo.LoginMailRow) -> None:
        """Hand this row's code (written leased to us) to mail now, without making the caller wait for mail.

        One call to mail at a time carries every code waiting: the first code of a quiet
        moment goes at once, alone; codes that arrive while a call is under way go together in
        the next one (at most MAX_CODES_PER_CALL each), so under load mail gets one call for
        many codes instead of one per code.
        """
        self._handing.submit((row, asyncio.get_running_loop().time()))

    async def _hand_over(self, batch: list[tuple[repo.LoginMailRow, float]]) -> None:
        # A row waiting longer than this could outlive its lease during the call: the worker of
        # any replica takes it once the lease has run out (mail's key makes that the same delivery).
        patience = self._policy.lease.total_seconds() - self._policy.call_timeout
        now = asyncio.get_running_loop().time()
        rows = [row for row, since in batch if now - since < patience]
        if not rows:
            return
        try:
            await self._send(rows)
        except Exception:  # the worker retries them when the lease ends; no request sees this
            log.exception("login_code_dispatch_failed", count=len(rows))

    async def drain_once(self) -> int:
        """One round of the worker: drop expired rows, then send what is due (one call); rows sent."""
        for challenge_id in await repo.delete_expired(self._reads):
            log.warning("login_code_mail_expired", challenge_id=str(challenge_id))
        rows = await repo.claim(self._reads, lease=self._policy.lease, limit=BATCH_SIZE)
        return await self._send(rows) if rows else 0

    async def _send(self, rows: list[repo.LoginMailRow]) -> int:
        """Hand `rows` to mail in one call; the accepted ones are forgotten, the others retried later."""
        opened: list[tuple[repo.LoginMailRow, LoginCodeMail]] = []
        for row in rows:
            try:
                code = codes.unseal(self._policy.seal_key, row.challenge_id, row.sealed_code)
            except (nacl.exceptions.CryptoError, ValueError):
                # Sealed under another pepper (rotated): nobody can read this code any more.
                log.error("login_code_unreadable", challenge_id=str(row.challenge_id))
                await repo.delete(self._reads, row.challenge_id)
                continue
            opened.append((row, LoginCodeMail(idempotency_key=str(row.challenge_id), recipient=row.recipient,
                                              locale=row.locale, code=code)))
        if not opened:
            return 0
        try:
            refusals = await self._mail.send_login_codes([mail for _, mail in opened])
        except Exception as error:  # noqa: BLE001 - mail down or refusing: retried until the code expires
            await asyncio.gather(*(self._retry_later(row, str(error)) for row, _ in opened))
            return 0
        sent = 0
        for (row, _), refusal in zip(opened, refusals, strict=True):
            if refusal is None:
                self._forget(row.challenge_id)
                log.debug("login_code_mailed", challenge_id=str(row.challenge_id), attempts=row.attempts)
                sent += 1
            else:
                await self._retry_later(row, refusal)
        return sent

    async def _retry_later(self, row: repo.LoginMailRow, error: str) -> None:
        delay = self._policy.backoff(row.attempts)
        log.warning("login_code_mail_retry", challenge_id=str(row.challenge_id), attempts=row.attempts,
                    retry_in_seconds=delay.total_seconds(), error=error)
        await repo.retry_later(self._reads, row.challenge_id, delay=delay, error=error)

    def _forget(self, challenge_id: uuid.UUID) -> None:
        """Delete the row of a code mail accepted, together with the others accepted meanwhile.

        One DELETE runs at a time; ids arriving while it runs go into the next one, so under
        load a delete covers many codes. A row whose delete is lost (a crash, a database error)
        is sent again when its lease ends, and mail's idempotency key makes that the same
        delivery.
        """
        self._forgetting.submit(challenge_id)

    async def _delete_accepted(self, batch: list[uuid.UUID]) -> None:
        try:
            await repo.delete_many(self._reads, batch)
        except Exception:  # noqa: BLE001 - the rows are sent again after their lease (above)
            log.exception("login_code_mail_delete_failed", count=len(batch))

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.drain_once()
            except Exception:  # a database hiccup must not kill the service; try again next round
                log.exception("login_mail_round_failed")
            try:
                await asyncio.wait_for(self._stopped.wait(), timeout=self._policy.poll_interval)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopped.set()
        await self._handing.idle(self._policy.call_timeout)
        await self._forgetting.idle(self._policy.call_timeout)
