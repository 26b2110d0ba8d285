import datetime

from galaxy.common.v1 import json_pb2 as _json_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserGamesCommandsRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    body: _json_pb2.RawJson
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[_json_pb2.RawJson, _Mapping]] = ...) -> None: ...

class UserGamesOrdersRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    body: _json_pb2.RawJson
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[_json_pb2.RawJson, _Mapping]] = ...) -> None: ...

class UserGamesReportRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "turn")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    TURN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    turn: int
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., turn: _Optional[int] = ...) -> None: ...

class AdminRuntimesGetRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminRuntimesRestartRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminRuntimesPatchRequest(_message.Message):
    __slots__ = ("admin_username", "game_id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    body: RuntimePatchRequest
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[RuntimePatchRequest, _Mapping]] = ...) -> None: ...

class AdminRuntimesForceNextTurnRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminEngineVersionsListRequest(_message.Message):
    __slots__ = ("admin_username",)
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    def __init__(self, admin_username: _Optional[str] = ...) -> None: ...

class AdminEngineVersionsCreateRequest(_message.Message):
    __slots__ = ("admin_username", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    body: EngineVersionCreateRequest
    def __init__(self, admin_username: _Optional[str] = ..., body: _Optional[_Union[EngineVersionCreateRequest, _Mapping]] = ...) -> None: ...

class AdminEngineVersionsUpdateRequest(_message.Message):
    __slots__ = ("admin_username", "id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    id: str
    body: EngineVersionUpdateRequest
    def __init__(self, admin_username: _Optional[str] = ..., id: _Optional[str] = ..., body: _Optional[_Union[EngineVersionUpdateRequest, _Mapping]] = ...) -> None: ...

class AdminEngineVersionsDisableRequest(_message.Message):
    __slots__ = ("admin_username", "id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    id: str
    def __init__(self, admin_username: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class RuntimeRecord(_message.Message):
    __slots__ = ("game_id", "status", "current_container_id", "image_ref", "started_at", "last_observed_at")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_REF_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    status: str
    current_container_id: str
    image_ref: str
    started_at: _timestamp_pb2.Timestamp
    last_observed_at: _timestamp_pb2.Timestamp
    def __init__(self, game_id: _Optional[str] = ..., status: _Optional[str] = ..., current_container_id: _Optional[str] = ..., image_ref: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RuntimeOperation(_message.Message):
    __slots__ = ("operation_id", "game_id", "op", "status", "started_at", "finished_at", "error")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    game_id: str
    op: str
    status: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, operation_id: _Optional[str] = ..., game_id: _Optional[str] = ..., op: _Optional[str] = ..., status: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class RuntimePatchRequest(_message.Message):
    __slots__ = ("target_version",)
    TARGET_VERSION_FIELD_NUMBER: _ClassVar[int]
    target_version: str
    def __init__(self, target_version: _Optional[str] = ...) -> None: ...

class EngineVersion(_message.Message):
    __slots__ = ("version", "image_ref", "enabled", "created_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_REF_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    version: str
    image_ref: str
    enabled: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[str] = ..., image_ref: _Optional[str] = ..., enabled: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EngineVersionList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[EngineVersion]
    def __init__(self, items: _Optional[_Iterable[_Union[EngineVersion, _Mapping]]] = ...) -> None: ...

class EngineVersionCreateRequest(_message.Message):
    __slots__ = ("version", "image_ref", "enabled")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_REF_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    version: str
    image_ref: str
    enabled: bool
    def __init__(self, version: _Optional[str] = ..., image_ref: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class EngineVersionUpdateRequest(_message.Message):
    __slots__ = ("image_ref", "enabled")
    IMAGE_REF_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    image_ref: str
    enabled: bool
    def __init__(self, image_ref: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class RosterMember(_message.Message):
    __slots__ = ("user_id", "race_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    race_name: str
    def __init__(self, user_id: _Optional[str] = ..., race_name: _Optional[str] = ...) -> None: ...

class StartRuntimeRequest(_message.Message):
    __slots__ = ("game_id", "engine_version", "roster", "turn_schedule", "seed")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROSTER_FIELD_NUMBER: _ClassVar[int]
    TURN_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    engine_version: str
    roster: _containers.RepeatedCompositeFieldContainer[RosterMember]
    turn_schedule: str
    seed: int
    def __init__(self, game_id: _Optional[str] = ..., engine_version: _Optional[str] = ..., roster: _Optional[_Iterable[_Union[RosterMember, _Mapping]]] = ..., turn_schedule: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class StopRuntimeRequest(_message.Message):
    __slots__ = ("game_id", "reason")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    reason: str
    def __init__(self, game_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PauseRuntimeRequest(_message.Message):
    __slots__ = ("game_id",)
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    def __init__(self, game_id: _Optional[str] = ...) -> None: ...

class ResumeRuntimeRequest(_message.Message):
    __slots__ = ("game_id",)
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    def __init__(self, game_id: _Optional[str] = ...) -> None: ...
