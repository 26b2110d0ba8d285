import datetime

from galaxy.common.v1 import json_pb2 as _json_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationIntent(_message.Message):
    __slots__ = ("intent_id", "user_id", "kind", "params", "occurred_at", "source", "params_json")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    user_id: str
    kind: str
    params: _struct_pb2.Struct
    occurred_at: _timestamp_pb2.Timestamp
    source: str
    params_json: _json_pb2.RawJson
    def __init__(self, intent_id: _Optional[str] = ..., user_id: _Optional[str] = ..., kind: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., params_json: _Optional[_Union[_json_pb2.RawJson, _Mapping]] = ...) -> None: ...
