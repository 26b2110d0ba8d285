"""galaxy_kit.proto.timestamp gives exactly what Timestamp.FromDatetime gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from galaxy_kit.proto import timestamp
from google.protobuf.timestamp_pb2 import Timestamp


def test_timestamp_matches_from_datetime():
    rng = random.Random(8)
    values = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # before the epoch: nanos stay positive
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
        datetime(2020, 5, 5, 1, 2, 3, 4),  # naive: UTC
        *(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(-6 * 10**16, 6 * 10**16))
          for _ in range(2000)),
    ]
    for value in values:
        reference = Timestamp()
        reference.FromDatetime(value)
        assert timestamp(value) == reference, value
