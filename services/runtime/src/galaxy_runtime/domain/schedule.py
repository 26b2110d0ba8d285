"""The turn schedule: five-field cron expressions, evaluated in UTC, with time as an input."""

from __future__ import annotations

import functools
from datetime import datetime

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from galaxy_kit.errors import InvalidArgument


def validate(expression: str) -> str:
    expression = " ".join(expression.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise InvalidArgument(f"turn_schedule: {expression!r} is not a five-field cron expression")
    return expression


@functools.lru_cache(maxsize=1024)
def next_slot(expression: str, after: datetime) -> datetime:
    """The first slot strictly after `after` (an aware UTC datetime).

    Cached: the games due in one slot mostly share their schedule and slot, and croniter costs about
    a tenth of a millisecond a call, which the scheduler would pay twice per game per slot."""
    try:
        return croniter(expression, after).get_next(datetime)
    except (CroniterBadCronError, CroniterBadDateError) as error:
        raise InvalidArgument(f"turn_schedule: {error}") from None
