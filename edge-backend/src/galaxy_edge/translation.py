"""Reply message → contract JSON, compiled once per message type.

The contract JSON of a reply is exactly what protobuf's
`json_format.MessageToDict(reply, preserving_proto_field_name=True,
always_print_fields_with_no_presence=True)` prints (docs/contracts.md,
"Schema → message mapping"). That function walks the descriptors of every
field on every call in pure Python; on the edge it was the largest piece of
per-request CPU after the two gRPC calls. `ReplyEncoder` walks each message
type's descriptor once and keeps one small converter per field, then applies
the same rules: the set fields in field-number order (`ListFields`), then
every field without presence that was not set, at its default. Well-known
types other than Timestamp (Struct, Any, ...) and values the fast rules do not
cover (an unknown enum number, a non-finite float) are handed to
`json_format` itself, so the output never differs.
"""

from __future__ import annotations

import base64
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

Convert = Callable[[Any], Any]

_TIMESTAMP = "google.protobuf.Timestamp"
_INT64 = frozenset({FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64})


def message_to_json(message: Message) -> Any:
    """The reference conversion: what the contract says a reply looks like."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type.has_options
        and field.message_type.GetOptions().map_entry
    )


class ReplyEncoder:
    """Converts reply messages to contract JSON with per-type converters built on first use."""

    def __init__(self) -> None:
        self._messages: dict[str, Convert] = {}

    def to_json(self, message: Message) -> Any:
        return self._message(message.DESCRIPTOR)(message)

    # -- compiling ---------------------------------------------------------------------------------

    def _message(self, descriptor: Descriptor) -> Convert:
        convert = self._messages.get(descriptor.full_name)
        if convert is None:
            convert = self._compile(descriptor)
        return convert

    def _compile(self, descriptor: Descriptor) -> Convert:
        name = descriptor.full_name
        if name == _TIMESTAMP:
            convert: Convert = _timestamp
        elif descriptor.file.package == "google.protobuf":
            convert = message_to_json  # Struct, Any, Empty, wrappers: json_format's own rules
        else:
            # Register a forwarder first: a message type may contain itself.
            by_number: dict[int, Convert] = {}
            defaults: list[tuple[str, Callable[[], Any]]] = []

            def convert(message: Message) -> Any:
                js = {}
                for field, value in message.ListFields():
                    js[field.name] = by_number[field.number](value)
                for field_name, default in defaults:
                    if field_name not in js:
                        js[field_name] = default()
                return js

            self._messages[name] = convert
            for field in descriptor.fields:
                by_number[field.number] = self._field(field)
                if not field.has_presence:
                    defaults.append((field.name, self._default(field)))
        self._messages[name] = convert
        return convert

    def _field(self, field: FieldDescriptor) -> Convert:
        if _is_map(field):
            key_field = field.message_type.fields_by_name["key"]
            value = self._single(field.message_type.fields_by_name["value"])
            if key_field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
                return lambda entries: {("true" if k else "false"): value(v) for k, v in entries.items()}
            return lambda entries: {str(k): value(v) for k, v in entries.items()}
        single = self._single(field)
        if field.is_repeated:
            return lambda values: [single(v) for v in values]
        return single

    def _single(self, field: FieldDescriptor) -> Convert:
        cpp = field.cpp_type
        if cpp == FieldDescriptor.CPPTYPE_MESSAGE:
            message_type = field.message_type
            return lambda value: self._message(message_type)(value)
        if cpp == FieldDescriptor.CPPTYPE_ENUM:
            return self._enum(field)
        if cpp == FieldDescriptor.CPPTYPE_STRING:
            if field.type == FieldDescriptor.TYPE_BYTES:
                return lambda value: base64.b64encode(value).decode("utf-8")
            return str
        if cpp == FieldDescriptor.CPPTYPE_BOOL:
            return bool
        if cpp in _INT64:
            return str
        if cpp in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
            return self._float(field)
        return _same

    def _enum(self, field: FieldDescriptor) -> Convert:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            return lambda _value: None
        names = {
            number: _through_json_format(field, number)
            for number in field.enum_type.values_by_number
        }

        def convert(value: int) -> Any:
            known = names.get(value, _MISSING)
            return known if known is not _MISSING else _through_json_format(field, value)

        return convert

    @staticmethod
    def _float(field: FieldDescriptor) -> Convert:
        single = field.cpp_type == FieldDescriptor.CPPTYPE_FLOAT

        def convert(value: float) -> Any:
            if not math.isfinite(value):
                return _through_json_format(field, value)
            return type_checkers.ToShortestFloat(value) if single else value

        return convert

    def _default(self, field: FieldDescriptor) -> Callable[[], Any]:
        if _is_map(field):
            return dict
        if field.is_repeated:
            return list
        value = self._single(field)(field.default_value)
        return lambda: value


class ReplyBodies:
    """Response bodies of recent large replies, by the reply's type and serialized bytes.

    Converting a page of fifty games to contract JSON and encoding it cost the edge
    more than the gRPC call that fetched it, and popular pages come back unchanged
    from one request to the next. The key is the reply itself (its type and its
    bytes as protobuf serializes them, deterministically), so a cached body is
    exactly what converting the reply again would give; a reply that changed in any
    field is another key. Nothing is invalidated because nothing can go stale; the
    least recently used body goes when `max_entries` is reached (64 pages of fifty games
    are about 1.5 MB, keys included). Replies smaller than `min_bytes` are converted
    every time: cheap to convert, and mostly one user's own.
    """

    def __init__(self, encoder: ReplyEncoder, *, max_entries: int = 64, min_bytes: int = 2048) -> None:
        self._encoder = encoder
        self._max_entries = max_entries
        self._min_bytes = min_bytes
        self._bodies: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()

    def body(self, reply: Message) -> bytes:
        if reply.ByteSize() < self._min_bytes:
            return encode_json(self._encoder.to_json(reply))
        key = (reply.DESCRIPTOR.full_name, reply.SerializeToString(deterministic=True))
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
            return body
        body = self._bodies[key] = encode_json(self._encoder.to_json(reply))
        if len(self._bodies) > self._max_entries:
            self._bodies.popitem(last=False)
        return body


def encode_json(payload: Any) -> bytes:
    """The edge's JSON bytes: compact, UTF-8 as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


_MISSING = object()


def _same(value: Any) -> Any:
    return value


_EPOCH = datetime(1970, 1, 1)
#: The range RFC 3339 can print (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z), as json_format checks it.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def _timestamp(value: Message) -> str:
    """Timestamp.ToJsonString's output (0, 3, 6 or 9 fraction digits), without its slow path."""
    seconds, nanos = value.seconds, value.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return value.ToJsonString()  # raises as json_format would
    text = (_EPOCH + timedelta(seconds=seconds)).isoformat()
    if nanos == 0:
        return text + "Z"
    if nanos % 1_000_000 == 0:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if nanos % 1_000 == 0:
        return f"{text}.{nanos // 1_000:06d}Z"
    return f"{text}.{nanos:09d}Z"


def _through_json_format(field: FieldDescriptor, value: Any) -> Any:
    """json_format's own answer for one field value (the rare cases the fast rules leave out)."""
    holder = message_factory.GetMessageClass(field.containing_type)()
    if field.is_repeated:
        getattr(holder, field.name).append(value)
        return message_to_json(holder)[field.name][0]
    setattr(holder, field.name, value)
    return message_to_json(holder)[field.name]


def request_message(request_class: type[Message], data: dict[str, Any]) -> Message:
    """The request message of validated parameters (and body); json_format.ParseError if it does not fit.

    Parameters alone (no body) are plain scalars already checked against the
    contract, so the constructor takes them directly; anything it refuses goes
    through `json_format.ParseDict`, which also names what does not fit.
    """
    if "body" not in data:
        try:
            return request_class(**data)
        except (TypeError, ValueError):
            pass
    message = request_class()
    json_format.ParseDict(data, message)
    return message
