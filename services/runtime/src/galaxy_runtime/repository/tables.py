"""Runtime's tables, all in the `runtime` schema."""

from __future__ import annotations

import sqlalchemy as sa
from galaxy_kit.db import sql_in
from galaxy_kit.events.schema import inbox_table, outbox_table
from sqlalchemy.dialects.postgresql import JSONB, UUID

from galaxy_runtime.domain.vocabulary import (
    EngineHealth,
    OperationKind,
    OperationStatus,
    RuntimeStatus,
    TickKind,
    TickStatus,
)

SCHEMA = "runtime"
metadata = sa.MetaData(schema=SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


engine_versions = sa.Table(
    "engine_versions", metadata,
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("major", sa.Integer, nullable=False),
    sa.Column("minor", sa.Integer, nullable=False),
    sa.Column("patch", sa.Integer, nullable=False),
    sa.Column("image_ref", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    _at("created_at", False),
    _at("updated_at", False),
)

runtimes = sa.Table(
    "runtimes", metadata,
    sa.Column("game_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("engine_version", sa.Text, sa.ForeignKey(engine_versions.c.version), nullable=False),
    sa.Column("image_ref", sa.Text, nullable=False),
    sa.Column("turn_schedule", sa.Text, nullable=False),
    #: [{"user_id": ..., "race": ...}] in the order the engine was given.
    sa.Column("roster", JSONB, nullable=False),
    sa.Column("seed", sa.Numeric(20, 0), nullable=False),
    sa.Column("current_turn", sa.Integer, nullable=False, server_default="0"),
    sa.Column("engine_health", sa.Text, nullable=False, server_default=str(EngineHealth.UNKNOWN)),
    #: The driver's handle of the engine (a container id, `pid:<n>`), and where its HTTP contract answers.
    sa.Column("engine_ref", sa.Text),
    sa.Column("endpoint", sa.Text),
    #: The next cron slot a scheduled tick is due at; NULL while no tick is due (not running).
    _at("next_slot_at"),
    sa.Column("restart_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stop_reason", sa.Text),
    _at("started_at"),
    _at("last_observed_at"),
    _at("finished_at"),
    _at("created_at", False),
    _at("updated_at", False),
    sa.CheckConstraint(sql_in("status", RuntimeStatus), name="runtimes_status"),
    sa.CheckConstraint(sql_in("engine_health", EngineHealth), name="runtimes_engine_health"),
)
#: Exactly what the scheduler's poll reads: running games whose slot is due.
sa.Index("runtimes_due", runtimes.c.next_slot_at, postgresql_where=runtimes.c.status == RuntimeStatus.RUNNING)

runtime_operations = sa.Table(
    "runtime_operations", metadata,
    sa.Column("operation_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey(runtimes.c.game_id), nullable=False),
    sa.Column("op", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("params", JSONB, nullable=False, server_default="{}"),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    #: A pending operation is not claimed before this; a running one's claim lapses after lease_until.
    _at("run_after", False),
    _at("lease_until"),
    sa.Column("error", sa.Text),
    _at("started_at", False),
    _at("finished_at"),
    sa.CheckConstraint(sql_in("op", OperationKind), name="runtime_operations_op"),
    sa.CheckConstraint(sql_in("status", OperationStatus), name="runtime_operations_status"),
)
#: Exactly what the operations worker's poll reads.
sa.Index("runtime_operations_open", runtime_operations.c.run_after,
         postgresql_where=runtime_operations.c.status.in_([OperationStatus.PENDING, OperationStatus.RUNNING]))
sa.Index("runtime_operations_game", runtime_operations.c.game_id, runtime_operations.c.started_at)

turn_ticks = sa.Table(
    "turn_ticks", metadata,
    sa.Column("game_id", UUID(as_uuid=True), sa.ForeignKey(runtimes.c.game_id), primary_key=True),
    #: The cron slot the tick is for (an early turn takes the slot it replaces; a forced one, its request time).
    #: The primary key is what makes a slot run once, whatever the number of replicas.
    sa.Column("slot_at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("turn", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    _at("run_after", False),
    sa.Column("claimed_by", sa.Text, nullable=False),
    _at("claimed_at", False),
    _at("started_at"),
    _at("finished_at"),
    sa.Column("error", sa.Text),
    sa.CheckConstraint(sql_in("kind", TickKind), name="turn_ticks_kind"),
    sa.CheckConstraint(sql_in("status", TickStatus), name="turn_ticks_status"),
)
sa.Index("turn_ticks_retry", turn_ticks.c.run_after,
         postgresql_where=turn_ticks.c.status == TickStatus.RETRY)
