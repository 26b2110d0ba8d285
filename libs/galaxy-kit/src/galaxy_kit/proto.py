"""Small protobuf conversions every servicer needs."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    """A protobuf Timestamp for an aware datetime (the edge prints it as RFC 3339 UTC)."""
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
