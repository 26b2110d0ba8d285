"""The administrators' views: notifications, dead letters, malformed intents (paged, newest first)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from galaxy_kit.errors import InvalidArgument, NotFound
from sqlalchemy.ext.asyncio import AsyncEngine

from galaxy_notify.repository import queries
from galaxy_notify.repository.queries import NotificationRow

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


def _paging(page: int, page_size: int) -> tuple[int, int]:
    """0 means "not set" (proto3); the edge always fills in the contract defaults."""
    page = page or 1
    page_size = page_size or DEFAULT_PAGE_SIZE
    if page < 1:
        raise InvalidArgument("page must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return page, page_size


class Admin:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _page(self, query: Any, page: int, page_size: int) -> Page:
        page, page_size = _paging(page, page_size)
        # Administrators' reads, rare: SQLAlchemy's implicit read-only transaction, rolled back at close.
        async with self.engine.connect() as connection:
            items, total = await query(connection, offset=(page - 1) * page_size, limit=page_size)
        return Page(items, page, page_size, total)

    async def notifications(self, page: int, page_size: int) -> Page[NotificationRow]:
        return await self._page(queries.page_of_notifications, page, page_size)

    async def dead_letters(self, page: int, page_size: int) -> Page[Any]:
        return await self._page(queries.page_of_dead_letters, page, page_size)

    async def malformed(self, page: int, page_size: int) -> Page[Any]:
        return await self._page(queries.page_of_malformed, page, page_size)

    async def notification(self, notification_id: str) -> NotificationRow:
        try:
            parsed = uuid.UUID(notification_id)
        except ValueError:
            raise InvalidArgument("notification_id must be a UUID") from None
        async with self.engine.connect() as connection:
            row = await queries.get_notification(connection, parsed)
        if row is None:
            raise NotFound(f"notification {parsed} not found")
        return row
