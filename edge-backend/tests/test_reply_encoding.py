"""The compiled reply encoder prints exactly what json_format prints, for every contract message;
the cache of large reply bodies answers exactly what converting the reply again would."""

from __future__ import annotations

import importlib
import json
import pkgutil
import random

import galaxy
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from galaxy_edge.translation import (
    ReplyBodies,
    ReplyEncoder,
    encode_json,
    message_to_json,
    request_message,
)


def contract_messages() -> list[type[Message]]:
    """Every message class generated from protos/ (all services, events included)."""
    classes: list[type[Message]] = []
    for module in pkgutil.walk_packages(galaxy.__path__, prefix="galaxy."):
        if not module.name.endswith("_pb2"):
            continue
        stubs = importlib.import_module(module.name)
        classes += [getattr(stubs, name) for name in stubs.DESCRIPTOR.message_types_by_name]
    return classes


def fill(message: Message, rng: random.Random, depth: int = 0) -> None:
    """Set a random subset of fields (nested messages, repeated and map fields included)."""
    descriptor: Descriptor = message.DESCRIPTOR
    if descriptor.full_name == "google.protobuf.Timestamp":
        message.seconds = rng.choice([0, -1, -62_135_596_800, 253_402_300_799, rng.randrange(0, 4_000_000_000)])
        message.nanos = rng.choice([0, 5_000_000, 123_456_000, 987_654_321])
        return
    if descriptor.full_name == "google.protobuf.Struct":
        message.update({"k": rng.choice([1, "v", True, None]), "n": {"x": [1, 2]}})
        return
    if descriptor.file.package == "google.protobuf":
        return
    for field in descriptor.fields:
        if rng.random() < 0.25:
            continue  # leave some fields unset: defaults and presence both matter
        if field.is_repeated and field.message_type is not None and field.message_type.GetOptions().map_entry:
            for _ in range(rng.randrange(0, 3)):
                getattr(message, field.name)[f"key{rng.randrange(100)}"] = scalar(
                    field.message_type.fields_by_name["value"], rng
                )
        elif field.is_repeated:
            for _ in range(rng.randrange(0, 3)):
                if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
                    if depth < 3:
                        fill(getattr(message, field.name).add(), rng, depth + 1)
                else:
                    getattr(message, field.name).append(scalar(field, rng))
        elif field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
            if depth < 3:
                fill(getattr(message, field.name), rng, depth + 1)
                getattr(message, field.name).SetInParent()
        else:
            setattr(message, field.name, scalar(field, rng))


def scalar(field: FieldDescriptor, rng: random.Random):
    cpp = field.cpp_type
    if cpp == FieldDescriptor.CPPTYPE_ENUM:
        return rng.choice(list(field.enum_type.values_by_number))
    if cpp == FieldDescriptor.CPPTYPE_STRING:
        if field.type == FieldDescriptor.TYPE_BYTES:
            return rng.randbytes(rng.randrange(0, 8))
        return rng.choice(["", "plain", "ünïcode ✓", "quote \" and \\ slash"])
    if cpp == FieldDescriptor.CPPTYPE_BOOL:
        return rng.random() < 0.5
    if cpp in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64):
        return rng.choice([0, 1, 2**40 + 7])
    if cpp in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_UINT32):
        return rng.choice([0, 1, 2**20])
    return rng.choice([0.0, 0.5, 1e300, float("inf"), float("nan")])


MESSAGES = contract_messages()


def test_the_contract_has_messages_to_compare():
    assert len(MESSAGES) > 100


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda cls: cls.DESCRIPTOR.full_name)
def test_the_encoder_prints_what_json_format_prints(cls):
    encoder = ReplyEncoder()
    rng = random.Random(cls.DESCRIPTOR.full_name)
    for _ in range(20):
        message = cls()
        fill(message, rng)
        # Same keys, same order, same values: the bytes on the wire are identical.
        assert json.dumps(encoder.to_json(message)) == json.dumps(message_to_json(message))


def test_parameters_build_the_same_request_as_parse_dict():
    from galaxy.account.v1 import account_pb2
    from google.protobuf import json_format

    data = {"user_id": "8d7c3c1e-2f44-4b1e-9a55-0d6f1f0c2a11"}
    reference = account_pb2.UserAccountGetRequest()
    json_format.ParseDict(data, reference)
    assert request_message(account_pb2.UserAccountGetRequest, data) == reference
    with pytest.raises(json_format.ParseError):
        request_message(account_pb2.UserAccountGetRequest, {"no_such_field": "x"})


def _page_of_games(count: int, status: str = "running"):
    from galaxy.lobby.v1 import lobby_pb2 as pb

    return pb.GameSummaryPage(page=1, page_size=50, total=count, items=[
        pb.GameSummary(game_id=f"00000000-0000-4000-8000-{n:012d}", game_name=f"Game {n}", game_type="public",
                       status=status, min_players=2, max_players=8, current_turn=n,
                       created_at={"seconds": 1_790_000_000 + n, "nanos": 123_000_000})
        for n in range(count)
    ])


def test_a_cached_body_is_what_converting_the_reply_gives_and_never_stale():
    bodies = ReplyBodies(ReplyEncoder(), max_entries=8, min_bytes=1024)
    page = _page_of_games(50)
    expected = encode_json(message_to_json(page))
    assert bodies.body(page) == expected
    assert bodies.body(_page_of_games(50)) == expected  # an equal reply: the cached body
    changed = _page_of_games(50)
    changed.items[17].status = "paused"
    assert bodies.body(changed) == encode_json(message_to_json(changed)) != expected
    changed.total = 51
    assert json.loads(bodies.body(changed))["total"] == 51


def test_replies_of_different_types_with_the_same_bytes_get_their_own_bodies():
    from galaxy.lobby.v1 import lobby_pb2 as pb

    bodies = ReplyBodies(ReplyEncoder(), min_bytes=0)
    for cls in (pb.GameSummaryPage, pb.LobbyGameDetail, pb.GameSummaryPage):
        assert cls().SerializeToString() == b""
        assert bodies.body(cls()) == encode_json(message_to_json(cls()))


def test_the_cache_keeps_at_most_its_bound_and_the_most_recently_used():
    bodies = ReplyBodies(ReplyEncoder(), max_entries=2, min_bytes=0)
    first, second, third = (_page_of_games(3, status) for status in ("running", "paused", "finished"))
    bodies.body(first)
    bodies.body(second)
    bodies.body(first)  # now the most recent: `second` goes when `third` comes
    bodies.body(third)
    kept = {json.loads(body)["items"][0]["status"] for body in bodies._bodies.values()}  # noqa: SLF001
    assert kept == {"running", "finished"}
    for reply in (first, second, third):
        assert bodies.body(reply) == encode_json(message_to_json(reply))
