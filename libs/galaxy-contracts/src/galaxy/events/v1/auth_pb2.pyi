import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceSessionRevoked(_message.Message):
    __slots__ = ("device_session_id", "user_id", "revoked_at")
    DEVICE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    device_session_id: str
    user_id: str
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, device_session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdminCredentialsChanged(_message.Message):
    __slots__ = ("username", "change", "changed_at")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    username: str
    change: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, username: _Optional[str] = ..., change: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
