"""Lobby's closed vocabularies, one StrEnum each; tables' CHECK constraints and queries use them too."""

from __future__ import annotations

from enum import StrEnum


class GameStatus(StrEnum):
    DRAFT = "draft"
    ENROLLMENT_OPEN = "enrollment_open"
    READY_TO_START = "ready_to_start"
    STARTING = "starting"
    START_FAILED = "start_failed"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: The applicant's account was deleted or blocked (never shown: nobody can read it any more).
    WITHDRAWN = "withdrawn"


class InviteStatus(StrEnum):
    PENDING = "pending"
    REDEEMED = "redeemed"
    DECLINED = "declined"
    REVOKED = "revoked"
    #: Never stored: a pending invite past its expires_at reads as expired.
    EXPIRED = "expired"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"
    BLOCKED = "blocked"


class RaceNameStatus(StrEnum):
    RESERVATION = "reservation"
    PENDING_REGISTRATION = "pending_registration"
    REGISTERED = "registered"


class ActorKind(StrEnum):
    USER = "user"
    ADMIN = "admin"
    #: Lobby itself: the public-game scheduler, runtime status events, account lifecycle events.
    SYSTEM = "system"


class LimitCode(StrEnum):
    """Account's per-user limit codes that lobby enforces (docs/account.md, "Limits")."""

    MAX_REGISTERED_RACE_NAMES = "max_registered_race_names"
    MAX_ACTIVE_GAMES = "max_active_games"
    MAX_PENDING_APPLICATIONS = "max_pending_applications"
    MAX_PENDING_INVITES = "max_pending_invites"


class NotifyKind(StrEnum):
    """Kinds of notification intents lobby publishes (docs/lobby.md, "Notification intents")."""

    APPLICATION_SUBMITTED = "lobby.application.submitted"
    APPLICATION_DECIDED = "lobby.application.decided"
    INVITE_RECEIVED = "lobby.invite.received"
    GAME_STARTED = "lobby.game.started"
    GAME_PAUSED = "lobby.game.paused"
    GAME_RESUMED = "lobby.game.resumed"
    GAME_FINISHED = "lobby.game.finished"
    GAME_CANCELLED = "lobby.game.cancelled"
    MEMBERSHIP_REMOVED = "lobby.membership.removed"
    MEMBERSHIP_BLOCKED = "lobby.membership.blocked"


#: Statuses in which a game still takes members (applications, approvals, redeems).
ENROLLING = (GameStatus.ENROLLMENT_OPEN, GameStatus.READY_TO_START)
#: Statuses a game never leaves.
TERMINAL = (GameStatus.FINISHED, GameStatus.CANCELLED)
#: Statuses before the engine ran: PATCH allowed (with the rules of docs/lobby.md).
EDITABLE = (GameStatus.DRAFT, GameStatus.ENROLLMENT_OPEN, GameStatus.READY_TO_START)
#: Public games shown by the public list.
LISTED = (GameStatus.ENROLLMENT_OPEN, GameStatus.READY_TO_START, GameStatus.STARTING,
          GameStatus.START_FAILED, GameStatus.RUNNING, GameStatus.PAUSED)

