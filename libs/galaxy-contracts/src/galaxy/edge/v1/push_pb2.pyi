from galaxy.notify.v1 import notify_pb2 as _notify_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SubscribeRequest(_message.Message):
    __slots__ = ("gateway_id", "last_event_id")
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    last_event_id: str
    def __init__(self, gateway_id: _Optional[str] = ..., last_event_id: _Optional[str] = ...) -> None: ...
