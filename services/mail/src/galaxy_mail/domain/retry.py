"""The retry policy: exponential back-off with jitter, and when to give up (docs/mail.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from galaxy_mail.settings import MailSettings


@dataclass(frozen=True)
class RetryPolicy:
    """After the n-th failed attempt of a cycle (n = 1, 2, ...):

    - n >= max_attempts: the delivery is dead-lettered;
    - otherwise the next attempt is due after
      `d = min(cap, base * factor ** (n - 1))`, jittered to a uniformly random
      value in `[d * (1 - jitter), d]`, so replicas that failed together do
      not retry together, and no delay ever exceeds the cap.
    """

    max_attempts: int
    base_seconds: float
    factor: float
    cap_seconds: float
    jitter: float

    @classmethod
    def from_settings(cls, settings: MailSettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.mail_max_attempts,
            base_seconds=settings.mail_retry_base_seconds,
            factor=settings.mail_retry_factor,
            cap_seconds=settings.mail_retry_cap_seconds,
            jitter=settings.mail_retry_jitter,
        )

    def exhausted(self, failed_attempts: int) -> bool:
        return failed_attempts >= self.max_attempts

    def ceiling(self, failed_attempts: int) -> float:
        """The un-jittered delay after `failed_attempts` failures, in seconds."""
        exponent = max(failed_attempts - 1, 0)
        try:
            raw = self.base_seconds * self.factor**exponent
        except OverflowError:
            raw = float("inf")
        return min(self.cap_seconds, raw)

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        ceiling = self.ceiling(failed_attempts)
        draw = (rng or random).uniform(ceiling * (1 - self.jitter), ceiling)
        return timedelta(seconds=draw)
