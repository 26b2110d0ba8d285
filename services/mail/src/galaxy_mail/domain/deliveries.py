"""The delivery outbox: enqueue (idempotent, one statement), the admin reads, resend (one transaction each).

Statuses and their transitions are in docs/mail.md. Nothing returned from here
carries a delivery's variables or its rendered body.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from galaxy_kit.db import Reads, transaction
from galaxy_kit.errors import Conflict, InvalidArgument, NotFound
from galaxy_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from galaxy_mail.domain.templates import TemplateCatalog, TemplateError
from galaxy_mail.repository import deliveries as repo
from galaxy_mail.repository.deliveries import AttemptView, DeadLetterView, DeliveryView

log = get_logger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_RECIPIENT_LENGTH = 254
MAX_VARIABLES = 50
MAX_VARIABLE_NAME_LENGTH = 64
MAX_VARIABLE_VALUE_LENGTH = 8000
MAX_LOCALE_LENGTH = 200
#: Deliveries one EnqueueDeliveries call may carry.
MAX_ENQUEUE_BATCH = 500
#: One addr-spec, no display name, nothing that could smuggle a second recipient or a header.
_ATOM = r"[^@\s<>,;:\"()\[\]\\]+"
RECIPIENT = re.compile(rf"^{_ATOM}@{_ATOM}$")

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


def parse_delivery_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument("delivery_id must be a UUID") from None


def _paging(page: int, page_size: int) -> tuple[int, int]:
    """0 means "not set" (proto3); the edge always fills in the contract defaults."""
    page = page or 1
    page_size = page_size or DEFAULT_PAGE_SIZE
    if page < 1:
        raise InvalidArgument("page must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return page, page_size


def _check_enqueue(idempotency_key: str, recipient: str, locale: str, variables: dict[str, str]) -> None:
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidArgument(f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
    if len(recipient) > MAX_RECIPIENT_LENGTH or not RECIPIENT.match(recipient):
        raise InvalidArgument("recipient must be one e-mail address")
    if len(locale) > MAX_LOCALE_LENGTH:
        raise InvalidArgument("locale is too long")
    if len(variables) > MAX_VARIABLES:
        raise InvalidArgument(f"at most {MAX_VARIABLES} variables")
    for name, value in variables.items():
        if not name or len(name) > MAX_VARIABLE_NAME_LENGTH or len(value) > MAX_VARIABLE_VALUE_LENGTH:
            raise InvalidArgument("a variable name or value is too long")


@dataclass(frozen=True)
class EnqueueRequest:
    idempotency_key: str
    template_id: str
    recipient: str
    locale: str
    variables: dict[str, str]


async def enqueue(
    reads: Reads,
    *,
    catalog: TemplateCatalog,
    idempotency_key: str,
    template_id: str,
    recipient: str,
    locale: str,
    variables: dict[str, str],
) -> tuple[uuid.UUID, bool]:
    """Put one templated mail in the outbox: (delivery_id, created). A key seen before returns
    the existing delivery with created=False, whatever the rest of the request says."""
    request = EnqueueRequest(idempotency_key=idempotency_key, template_id=template_id,
                             recipient=recipient, locale=locale, variables=variables)
    row = _new_delivery(catalog, request)  # unknown template or missing variables: INVALID_ARGUMENT
    created, existing = await _store(reads, [row])
    if idempotency_key in created:
        log.debug("mail_enqueued", delivery_id=str(row.delivery_id), template_id=template_id, locale=row.locale)
        return created[idempotency_key], True
    if idempotency_key in existing:
        return existing[idempotency_key], False
    raise Conflict("the idempotency key is being used concurrently; retry")  # pragma: no cover - see _store


@dataclass(frozen=True)
class Enqueued:
    """One delivery of `enqueue_many`: stored (delivery_id, created) or refused (error)."""

    delivery_id: uuid.UUID | None
    created: bool = False
    error: str | None = None


def _new_delivery(catalog: TemplateCatalog, request: EnqueueRequest) -> repo.NewDelivery:
    """The row a request stores, its locale resolved; InvalidArgument says what is wrong with it."""
    recipient = request.recipient.strip()
    _check_enqueue(request.idempotency_key, recipient, request.locale, request.variables)
    catalog.check(request.template_id, request.variables)
    return repo.NewDelivery(
        delivery_id=uuid.uuid4(), idempotency_key=request.idempotency_key, template_id=request.template_id,
        locale=catalog.resolve_locale(request.template_id, request.locale), recipient=recipient,
        variables=dict(request.variables),
    )


async def _store(
    reads: Reads, rows: list[repo.NewDelivery]
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Store the rows whose keys are free: (key → id created, key → id of the delivery already there).

    A key in neither was taken by a row that vanished between the two statements, which
    retention (days) rules out in practice.
    """
    created = await repo.create_many_and_notify(reads, rows)
    taken = {row.idempotency_key for row in rows} - created.keys()
    # ON CONFLICT waited for concurrent inserts of the same keys to commit: a new statement sees them.
    existing = await repo.read_ids_by_keys(reads, sorted(taken)) if taken else {}
    return created, existing


async def enqueue_many(reads: Reads, *, catalog: TemplateCatalog, requests: list[EnqueueRequest]) -> list[Enqueued]:
    """`enqueue` for many deliveries in one statement (and a second one for keys already taken),
    one result per request in order. A request that fails its checks is refused alone (its
    `error` is what `enqueue` would answer INVALID_ARGUMENT with); the others are stored."""
    if not 1 <= len(requests) <= MAX_ENQUEUE_BATCH:
        raise InvalidArgument(f"deliveries must hold 1 to {MAX_ENQUEUE_BATCH} deliveries")
    results: list[Enqueued | None] = [None] * len(requests)
    rows: list[repo.NewDelivery] = []
    for index, request in enumerate(requests):
        try:
            rows.append(_new_delivery(catalog, request))
        except InvalidArgument as refused:
            results[index] = Enqueued(None, error=refused.message)
    created, existing = await _store(reads, rows) if rows else ({}, {})
    for index, request in enumerate(requests):
        if results[index] is not None:
            continue
        key = request.idempotency_key
        if key in created:
            # A key repeated inside the request: the first one made the delivery.
            results[index] = Enqueued(created.pop(key), created=True)
            existing[key] = results[index].delivery_id  # type: ignore[union-attr]
        elif key in existing:
            results[index] = Enqueued(existing[key])
        else:  # pragma: no cover - the conflicting row cannot vanish before its retention
            results[index] = Enqueued(None, error="the idempotency key is being used concurrently; retry")
    log.debug("mail_enqueued_many", requested=len(requests), created=sum(r.created for r in results if r))
    return [result for result in results if result is not None]


async def get(sessions: async_sessionmaker[AsyncSession], *, delivery_id: uuid.UUID) -> DeliveryView:
    async with transaction(sessions) as session:
        view = await repo.get_view(session, delivery_id)
    if view is None:
        raise NotFound("mail delivery not found")
    return view


async def list_deliveries(
    sessions: async_sessionmaker[AsyncSession], *, page: int, page_size: int
) -> Page[DeliveryView]:
    """Newest first."""
    page, page_size = _paging(page, page_size)
    async with transaction(sessions) as session:
        items = await repo.list_views(session, offset=(page - 1) * page_size, limit=page_size)
        total = await repo.count(session)
    return Page(items, page, page_size, total)


async def list_attempts(sessions: async_sessionmaker[AsyncSession], *, delivery_id: uuid.UUID) -> list[AttemptView]:
    """Oldest first (attempt_no 1, 2, ...)."""
    async with transaction(sessions) as session:
        if await repo.get_view(session, delivery_id) is None:
            raise NotFound("mail delivery not found")
        return await repo.list_attempts(session, delivery_id)


async def list_dead_letters(
    sessions: async_sessionmaker[AsyncSession], *, page: int, page_size: int
) -> Page[DeadLetterView]:
    """Dead letters not resent since, newest first."""
    page, page_size = _paging(page, page_size)
    async with transaction(sessions) as session:
        items = await repo.list_open_dead_letters(session, offset=(page - 1) * page_size, limit=page_size)
        total = await repo.count_open_dead_letters(session)
    return Page(items, page, page_size, total)


async def _check_resendable(session: AsyncSession, catalog: TemplateCatalog, view: DeliveryView) -> None:
    """A dead letter keeps what a resend needs unless its template has secret variables."""
    try:
        secrets = catalog.secret_variables(view.template_id)
    except TemplateError:
        # Dead-lettering erased all of its variables, and there is nothing to render them with.
        raise Conflict("mail delivery's template is no longer shipped; it cannot be resent") from None
    if secrets and not await repo.has_variables(session, view.delivery_id, secrets):
        raise Conflict(
            "mail delivery was dead-lettered and its secret variables (such as a login code) "
            "were erased; it cannot be resent, the sender has to request a new one"
        )


async def resend(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TemplateCatalog,
    delivery_id: uuid.UUID,
    admin_username: str = "",
) -> DeliveryView:
    """pending | retrying | dead_lettered → pending, due now, a new cycle; sent → Conflict.

    A dead letter whose secret variables (a login code) were erased cannot be rendered again:
    Conflict. Its sender makes a new one if it is still wanted (a player asks for a new code;
    the old one has expired by then anyway).
    """
    async with transaction(sessions) as session:
        view = await repo.get_view(session, delivery_id, for_update=True)
        if view is None:
            raise NotFound("mail delivery not found")
        if view.status == "sent":
            raise Conflict("mail delivery was already sent; it is not sent twice")
        if view.status == "dead_lettered":
            await _check_resendable(session, catalog, view)
        await repo.rearm(session, delivery_id)
        await repo.notify_workers(session)
        view = await repo.get_view(session, delivery_id)
    assert view is not None
    log.info("mail_resend_requested", delivery_id=str(delivery_id), admin=admin_username)
    return view
