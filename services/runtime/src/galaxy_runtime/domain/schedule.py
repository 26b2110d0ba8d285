"""The turn schedule: five-field cron expressions, evaluated in UTC, with time as an input."""

from __future__ import annotations

from datetime import datetime

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from galaxy_kit.errors import InvalidArgument


def validate(expression: str) -> str:
    expression = " ".join(expression.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise InvalidArgument(f"turn_schedule: {expression!r} is not a five-field cron expression")
    return expression


def next_slot(expression: str, after: datetime) -> datetime:
    """The first slot strictly after `after` (an aware UTC datetime)."""
    try:
        return croniter(expression, after).get_next(datetime)
    except (CroniterBadCronError, CroniterBadDateError) as error:
        raise InvalidArgument(f"turn_schedule: {error}") from None
