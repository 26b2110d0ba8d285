"""Retention: rows that have served their purpose are deleted after a while, in small batches.

A `RetentionRule` names a table, the timestamp column that says when a row
finished (published, processed, sent), how long finished rows are kept, and
optionally which rows count as finished at all. A `RetentionWorker` (one per
service process; `galaxy_kit.service` starts it) applies its rules every
`interval` seconds, first right after start-up:

    DELETE FROM t WHERE <primary key> IN (
        SELECT <primary key> FROM t
        WHERE <timestamp> < now() - <keep_for> [AND <finished>]
        LIMIT <batch_size> FOR UPDATE SKIP LOCKED)

one short transaction per batch, until a batch comes back short. Safe with
any number of replicas: each batch locks the rows it deletes and skips rows
another replica (or any other transaction) holds, so replicas never wait on
each other, never delete a row twice, and each transaction touches at most
`batch_size` rows (no long lock, no huge WAL burst). A failed pass is logged
and tried again at the next interval.

Every service gets the rules of its own event tables for free
(`event_table_rules`): published outbox rows and inbox rows. A service adds
rules for its own tables in its `build` (`context.retention.append(...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from galaxy_kit.logging import get_logger
from galaxy_kit.workers import PeriodicWorker

log = get_logger(__name__)

__all__ = ["PRUNED_TOTAL", "RetentionRule", "RetentionWorker", "event_table_rules"]

PRUNED_TOTAL = Counter("galaxy_retention_pruned_total", "Rows deleted by retention", ["table"])


@dataclass(frozen=True)
class RetentionRule:
    """Delete rows of `table` whose `timestamp` is older than `keep_for` (and match `finished`)."""

    table: sa.Table
    timestamp: sa.Column[Any]
    keep_for: timedelta
    finished: sa.ColumnElement[bool] | None = None

    @property
    def name(self) -> str:
        return f"{self.table.schema or 'public'}.{self.table.name}"

    def delete_batch(self, batch_size: int) -> sa.Delete:
        key = list(self.table.primary_key.columns)
        if not key:
            raise ValueError(f"retention needs a primary key on {self.name}")
        conditions = [self.timestamp < sa.func.now() - sa.literal(self.keep_for, sa.Interval)]
        if self.finished is not None:
            conditions.append(self.finished)
        chosen = (
            sa.select(*key)
            .where(*conditions)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        target = key[0].in_(chosen) if len(key) == 1 else sa.tuple_(*key).in_(chosen)
        return sa.delete(self.table).where(target)


def event_table_rules(
    outbox: sa.Table, inbox: sa.Table, *, outbox_keep_for: timedelta, inbox_keep_for: timedelta
) -> list[RetentionRule]:
    """Published outbox rows after `outbox_keep_for`; inbox rows after `inbox_keep_for`.

    Unpublished outbox rows, parked dead letters included, are never pruned.
    """
    return [
        RetentionRule(outbox, outbox.c.published_at, outbox_keep_for),
        RetentionRule(inbox, inbox.c.processed_at, inbox_keep_for),
    ]


class RetentionWorker(PeriodicWorker):
    """Applies `rules` every `interval` seconds (a background worker of `galaxy_kit.service`)."""

    failure_event = "retention_pass_failed"

    def __init__(
        self,
        engine: AsyncEngine,
        rules: list[RetentionRule],
        *,
        interval: float,
        batch_size: int,
    ) -> None:
        if batch_size < 1 or interval <= 0:
            raise ValueError("retention needs a positive batch size and interval")
        super().__init__(interval=interval)
        self.engine = engine
        self.rules = list(rules)
        self.batch_size = batch_size
        self.pruned: dict[str, int] = {}

    async def run_once(self) -> dict[str, int]:
        return await self.prune_once()

    async def prune_once(self) -> dict[str, int]:
        """One pass over every rule; returns the rows this call deleted, per table."""
        deleted: dict[str, int] = {}
        for rule in self.rules:
            statement = rule.delete_batch(self.batch_size)
            total = 0
            while not self._stopping.is_set():
                async with self.engine.begin() as conn:
                    count = (await conn.execute(statement)).rowcount
                total += count
                if count < self.batch_size:
                    break
            deleted[rule.name] = total
            if total:
                self.pruned[rule.name] = self.pruned.get(rule.name, 0) + total
                PRUNED_TOTAL.labels(rule.name).inc(total)
                log.info("retention_pruned", table=rule.name, rows=total)
        return deleted
