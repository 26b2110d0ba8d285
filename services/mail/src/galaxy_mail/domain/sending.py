"""The worker's two transactions around one SMTP attempt: claim, then finish.

Claim (one transaction for a batch): lock due, sendable, unleased deliveries
with `SELECT ... FOR UPDATE SKIP LOCKED` (a row another replica is claiming
is skipped, not waited for), record an attempt row per delivery, and lease
each one to this worker until `now() + lease` (`claimed_until`). Nobody else
can claim a leased delivery, and the SMTP conversation is bounded by a
timeout shorter than the lease, so one delivery is never sent by two workers
at once. A worker that dies mid-attempt leaves its lease behind; once it ran
out, the next claim marks the attempt `abandoned` and takes the delivery over.

Finish (one transaction): record the outcome and apply the transition
(docs/mail.md). The attempts of a batch that the server accepted are finished
together, in one statement (`finish_sent`). Only the lease holder moves a delivery on, except that a
success is always recorded as `sent`.

Secrets: the transaction that marks a delivery sent erases its variables, and
the one that dead-letters it erases the template's secret variables (all of
them if the template is gone), so a login code is never readable in a
finished delivery.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from galaxy_kit.db import transaction
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_mail.domain.retry import RetryPolicy
from galaxy_mail.domain.templates import TemplateCatalog, TemplateError
from galaxy_mail.repository import deliveries as repo
from galaxy_mail.smtp import SendResult

ABANDONED = "the worker's lease ran out before the attempt finished"


@dataclass(frozen=True)
class Claim:
    """One leased delivery and its attempt in flight. Holds the variables: never log it."""

    delivery_id: uuid.UUID
    attempt_id: uuid.UUID
    attempt_no: int
    started_at: datetime
    template_id: str
    locale: str
    recipient: str
    variables: dict[str, str]

    def __repr__(self) -> str:
        return f"Claim(delivery_id={self.delivery_id}, attempt_no={self.attempt_no})"


def secrets_of(catalog: TemplateCatalog, template_id: str) -> frozenset[str] | None:
    """What a dead letter of `template_id` must not keep; None (all) for an unknown template."""
    try:
        return catalog.secret_variables(template_id)
    except TemplateError:
        return None


async def claim_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TemplateCatalog,
    worker: str,
    policy: RetryPolicy,
    lease: timedelta,
    limit: int,
) -> list[Claim]:
    starting: list[tuple[repo.DueDelivery, uuid.UUID]] = []
    async with transaction(sessions) as session:
        for due in await repo.lock_due(session, limit=limit):
            if due.claim_attempt_id is not None:
                await repo.abandon_attempt(session, due.claim_attempt_id, error=ABANDONED)
            if policy.exhausted(due.cycle_attempts):
                last = ABANDONED if due.claim_attempt_id is not None else "attempt limit reached"
                await repo.dead_letter(
                    session,
                    due.delivery_id,
                    reason=f"gave up after {due.cycle_attempts} attempts: {last}",
                    erase=secrets_of(catalog, due.template_id),
                )
                continue
            starting.append((due, uuid.uuid4()))
        # Every attempt of the batch recorded and leased in one statement.
        started_at = await repo.start_attempts(
            session,
            [(due.delivery_id, attempt_id, due.attempts + 1) for due, attempt_id in starting],
            worker=worker,
            lease=lease,
        )
    return [
        Claim(
            delivery_id=due.delivery_id,
            attempt_id=attempt_id,
            attempt_no=due.attempts + 1,
            started_at=started_at[due.delivery_id],
            template_id=due.template_id,
            locale=due.locale,
            recipient=due.recipient,
            variables=dict(due.variables),
        )
        for due, attempt_id in starting
    ]


async def finish_sent(sessions: async_sessionmaker[AsyncSession], claims: list[Claim]) -> None:
    """Record the attempts whose message the server accepted, and mark their deliveries sent
    (variables erased), all in one statement: what `finish` does for a `sent` result, per batch."""
    async with transaction(sessions) as session:
        await repo.finish_sent(session, [(claim.delivery_id, claim.attempt_id) for claim in claims])


async def finish(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TemplateCatalog,
    claim: Claim,
    result: SendResult,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> str:
    """Record the attempt's outcome and move the delivery on; returns the delivery's new status,
    or `lease_lost` when another worker had taken the delivery over meanwhile."""
    async with transaction(sessions) as session:
        state = await repo.lock_claim_state(session, claim.delivery_id)
        await repo.finish_attempt(session, claim.attempt_id, outcome=result.outcome, error=result.error)
        if state is None:  # pragma: no cover - deliveries are never deleted
            return "lease_lost"
        if result.outcome == "sent":
            if state.status != "sent":
                await repo.mark_sent(session, claim.delivery_id)
            return "sent"
        if state.claim_attempt_id != claim.attempt_id:
            return "lease_lost"
        if state.rearmed_at is not None and state.rearmed_at > claim.started_at:
            # An operator asked for a resend while this attempt was in flight: a new cycle, due now.
            await repo.mark_due_in(session, claim.delivery_id, status="pending", delay=timedelta(0),
                                   error=result.error)
            return "pending"
        secrets = secrets_of(catalog, claim.template_id)
        if result.outcome == "rejected":
            await repo.dead_letter(
                session, claim.delivery_id, reason=f"rejected: {result.error}", erase=secrets
            )
            return "dead_lettered"
        if policy.exhausted(state.cycle_attempts):
            await repo.dead_letter(
                session,
                claim.delivery_id,
                reason=f"gave up after {state.cycle_attempts} attempts; last error: {result.error}",
                erase=secrets,
            )
            return "dead_lettered"
        await repo.mark_due_in(
            session,
            claim.delivery_id,
            status="retrying",
            delay=policy.delay(state.cycle_attempts, rng),
            error=result.error,
        )
        return "retrying"
