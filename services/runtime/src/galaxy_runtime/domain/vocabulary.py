"""Runtime's closed vocabularies, one StrEnum each (docs/runtime.md); the tables' CHECKs use them too."""

from __future__ import annotations

from enum import StrEnum


class RuntimeStatus(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    START_FAILED = "start_failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FINISHED = "finished"


#: Statuses in which a game has (or should have) a live engine.
LIVE = frozenset({RuntimeStatus.RUNNING, RuntimeStatus.PAUSED})


class OperationKind(StrEnum):
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    RESTART = "restart"
    PATCH = "patch"
    FORCE_NEXT_TURN = "force_next_turn"
    RECOVER = "recover"


class OperationStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TickKind(StrEnum):
    SCHEDULED = "scheduled"
    CATCH_UP = "catch_up"
    EARLY = "early"
    FORCED = "forced"


class TickStatus(StrEnum):
    CLAIMED = "claimed"
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


class EngineHealth(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


class NotifyKind(StrEnum):
    TURN_COMPLETED = "runtime.turn.completed"
    GAME_FINISHED = "runtime.game.finished"

