"""Envelope helpers: pure unit tests, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.envelope_pb2 import EventEnvelope
from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
from galaxy_kit.events import MalformedEvent, new_envelope, pack, unpack, unpack_payload


def test_new_envelope_fills_identity_type_time_and_producer():
    before = datetime.now(UTC)
    envelope = new_envelope(AccountLifecycleEvent(user_id="u1", kind="soft_deleted"), "account")
    assert uuid.UUID(envelope.event_id).version == 4
    assert envelope.event_type == "galaxy.events.v1.AccountLifecycleEvent"
    assert envelope.producer == "account"
    occurred = envelope.occurred_at.ToDatetime(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= occurred <= datetime.now(UTC) + timedelta(seconds=1)
    assert envelope.payload.type_url.endswith("/galaxy.events.v1.AccountLifecycleEvent")


def test_pack_unpack_round_trip():
    payload = AccountLifecycleEvent(user_id="u1", kind="permanently_blocked", reason_code="abuse")
    envelope = new_envelope(payload, "account")
    decoded = unpack(pack(envelope))
    assert decoded == envelope
    assert unpack_payload(decoded, AccountLifecycleEvent) == payload


def test_explicit_id_and_time_are_kept():
    event_id = uuid.uuid4()
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    envelope = new_envelope(RuntimeStatusEvent(game_id="g"), "runtime", event_id=event_id, occurred_at=when)
    assert envelope.event_id == str(event_id)
    assert envelope.occurred_at.ToDatetime(tzinfo=UTC) == when
    with pytest.raises(ValueError):
        new_envelope(RuntimeStatusEvent(), "runtime", occurred_at=datetime(2030, 1, 1))  # naive


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"\xff\xff\xff\xff not protobuf",
        EventEnvelope(event_id="not-a-uuid", event_type="x").SerializeToString(),
        EventEnvelope(event_id=str(uuid.uuid4()), event_type="x").SerializeToString(),  # no payload
        EventEnvelope(event_id=str(uuid.uuid4())).SerializeToString(),  # no type
    ],
    ids=["none", "empty", "garbage", "bad-id", "no-payload", "no-type"],
)
def test_unusable_values_are_malformed(value):
    with pytest.raises(MalformedEvent):
        unpack(value)


def test_wrong_payload_type_is_malformed():
    envelope = new_envelope(RuntimeStatusEvent(game_id="g1"), "runtime")
    with pytest.raises(MalformedEvent, match="expected payload galaxy.events.v1.AccountLifecycleEvent"):
        unpack_payload(envelope, AccountLifecycleEvent)


def test_undecodable_payload_bytes_are_malformed():
    envelope = new_envelope(AccountLifecycleEvent(user_id="u"), "account")
    envelope.payload.value = b"\xff\xff\xff\xff"
    with pytest.raises(MalformedEvent, match="undecodable"):
        unpack_payload(unpack(pack(envelope)), AccountLifecycleEvent)
