import datetime

from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdminGeoListUserCountriesRequest(_message.Message):
    __slots__ = ("admin_username", "user_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class GeoCountryCounter(_message.Message):
    __slots__ = ("country", "count", "last_seen_at")
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    country: str
    count: int
    last_seen_at: _timestamp_pb2.Timestamp
    def __init__(self, country: _Optional[str] = ..., count: _Optional[int] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GeoCountryCounterList(_message.Message):
    __slots__ = ("user_id", "items")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    items: _containers.RepeatedCompositeFieldContainer[GeoCountryCounter]
    def __init__(self, user_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[GeoCountryCounter, _Mapping]]] = ...) -> None: ...

class ObserveClientAddressRequest(_message.Message):
    __slots__ = ("user_id", "client_address")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_address: str
    def __init__(self, user_id: _Optional[str] = ..., client_address: _Optional[str] = ...) -> None: ...

class ClientAddressObservation(_message.Message):
    __slots__ = ("user_id", "client_address", "observed_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_address: str
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., client_address: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ObserveClientAddressesRequest(_message.Message):
    __slots__ = ("observations",)
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    observations: _containers.RepeatedCompositeFieldContainer[ClientAddressObservation]
    def __init__(self, observations: _Optional[_Iterable[_Union[ClientAddressObservation, _Mapping]]] = ...) -> None: ...

class ObserveClientAddressesResponse(_message.Message):
    __slots__ = ("counted", "unresolved", "rejected")
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    UNRESOLVED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    counted: int
    unresolved: int
    rejected: int
    def __init__(self, counted: _Optional[int] = ..., unresolved: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...
