"""The registry of notification kinds: who publishes each, its params' schema, its e-mail.

Every kind lobby and runtime publish is here (account publishes none); docs/notify.md,
"Kinds", lists them. An intent whose kind is not here, or whose params do not fit the kind's
schema, is kept as a malformed intent (domain/intake.py). A new kind is a change here, in the
producer and in docs/notify.md together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000), Field(strict=True)]
Id = Annotated[uuid.UUID, Field()]


class _Params(BaseModel):
    """Params of one kind: exactly the documented fields, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Game(_Params):
    game_id: Id
    game_name: Text


class ApplicationSubmitted(_Game):
    application_id: Id
    applicant_user_id: Id
    race_name: Text


class ApplicationDecided(_Game):
    application_id: Id
    decision: Literal["approved", "rejected"]
    reason: Literal["game_cancelled"] | None = None


class InviteReceived(_Game):
    invite_id: Id
    inviter_user_id: Id
    race_name: Text
    expires_at: datetime


class GameStatusChanged(_Game):
    status: Literal["running", "paused", "finished", "cancelled"]
    reason: Text | None = None


class MembershipChanged(_Game):
    membership_id: Id
    user_id: Id
    race_name: Text
    by: Literal["self", "user", "admin", "system"]
    reason: Text | None = None


class RuntimeTurn(_Params):
    game_id: Id
    # An integer, as runtime sends it (params_json); 3.5 or "3" is refused.
    turn: Annotated[int, Field(ge=0, strict=True)]


@dataclass(frozen=True)
class Kind:
    name: str
    #: The only service allowed to publish it (the intent's `source`).
    producer: str
    params: type[_Params]
    #: The mail template sent to a user no push consumer can reach (None: push only).
    email_template: str | None = None


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("lobby.application.submitted", "lobby", ApplicationSubmitted),
    Kind("lobby.application.decided", "lobby", ApplicationDecided, "notify.application_decided"),
    Kind("lobby.invite.received", "lobby", InviteReceived, "notify.invite_received"),
    Kind("lobby.game.started", "lobby", GameStatusChanged, "notify.game_started"),
    Kind("lobby.game.paused", "lobby", GameStatusChanged),
    Kind("lobby.game.resumed", "lobby", GameStatusChanged),
    Kind("lobby.game.finished", "lobby", GameStatusChanged),
    Kind("lobby.game.cancelled", "lobby", GameStatusChanged, "notify.game_cancelled"),
    Kind("lobby.membership.removed", "lobby", MembershipChanged),
    Kind("lobby.membership.blocked", "lobby", MembershipChanged),
    Kind("runtime.turn.completed", "runtime", RuntimeTurn),
    Kind("runtime.game.finished", "runtime", RuntimeTurn),
)}


class InvalidIntent(ValueError):
    """The intent does not fit the registry; the message is the reason kept with it."""


#: The params of an intent whose `params_json` is not JSON text (refused by `check`).
NOT_JSON = object()


@dataclass(frozen=True)
class CheckedIntent:
    intent_id: uuid.UUID
    user_id: uuid.UUID
    kind: Kind
    source: str
    params: dict[str, Any]
    occurred_at: datetime


def check(*, intent_id: str, user_id: str, kind: str, source: str, params: object,
          occurred_at: datetime | None) -> CheckedIntent:
    """The intent if it fits its kind's schema; otherwise InvalidIntent saying why."""
    problems = []
    parsed_intent_id = _uuid(intent_id, "intent_id", problems)
    parsed_user_id = _uuid(user_id, "user_id", problems)
    if occurred_at is None:
        problems.append("occurred_at: missing")
    spec = KINDS.get(kind)
    if spec is None:
        problems.append(f"kind: unknown kind {kind!r}")
    if params is NOT_JSON:
        problems.append("params_json: not JSON text")
    elif not isinstance(params, dict):
        problems.append(f"params: a JSON object is expected, not {type(params).__name__}")
    if spec is not None and source != spec.producer:
        problems.append(f"source: {kind} is published by {spec.producer}, not {source!r}")
    if spec is not None and isinstance(params, dict):
        try:
            spec.params.model_validate(params)
        except ValidationError as error:
            for item in error.errors():
                where = ".".join(str(part) for part in item["loc"])
                problems.append(f"params.{where}: {item['msg']}")
    if problems:
        raise InvalidIntent("; ".join(problems))
    assert spec is not None and parsed_intent_id and parsed_user_id and occurred_at
    return CheckedIntent(parsed_intent_id, parsed_user_id, spec, source, params, occurred_at)


def _uuid(value: str, name: str, problems: list[str]) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        problems.append(f"{name}: not a UUID ({value!r})")
        return None
