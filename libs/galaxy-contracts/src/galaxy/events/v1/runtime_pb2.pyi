import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuntimeStatusEvent(_message.Message):
    __slots__ = ("game_id", "status", "engine_health", "current_turn", "occurred_at", "message")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_HEALTH_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TURN_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    status: str
    engine_health: str
    current_turn: int
    occurred_at: _timestamp_pb2.Timestamp
    message: str
    def __init__(self, game_id: _Optional[str] = ..., status: _Optional[str] = ..., engine_health: _Optional[str] = ..., current_turn: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...
