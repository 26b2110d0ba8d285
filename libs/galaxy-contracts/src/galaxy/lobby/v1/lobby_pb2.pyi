import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserLobbyGamesListRequest(_message.Message):
    __slots__ = ("user_id", "page", "page_size")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page: int
    page_size: int
    def __init__(self, user_id: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class UserLobbyGamesCreateRequest(_message.Message):
    __slots__ = ("user_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    body: LobbyGameCreateRequest
    def __init__(self, user_id: _Optional[str] = ..., body: _Optional[_Union[LobbyGameCreateRequest, _Mapping]] = ...) -> None: ...

class UserLobbyGamesGetRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesUpdateRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    body: LobbyGameUpdateRequest
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[LobbyGameUpdateRequest, _Mapping]] = ...) -> None: ...

class UserLobbyGamesOpenEnrollmentRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesReadyToStartRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesStartRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesPauseRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesResumeRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesCancelRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyGamesRetryStartRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyApplicationsSubmitRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    body: LobbyApplicationSubmitRequest
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[LobbyApplicationSubmitRequest, _Mapping]] = ...) -> None: ...

class UserLobbyApplicationsApproveRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "application_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    application_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., application_id: _Optional[str] = ...) -> None: ...

class UserLobbyApplicationsRejectRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "application_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    application_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., application_id: _Optional[str] = ...) -> None: ...

class UserLobbyInvitesIssueRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    body: LobbyInviteIssueRequest
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[LobbyInviteIssueRequest, _Mapping]] = ...) -> None: ...

class UserLobbyInvitesRedeemRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "invite_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    invite_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., invite_id: _Optional[str] = ...) -> None: ...

class UserLobbyInvitesDeclineRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "invite_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    invite_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., invite_id: _Optional[str] = ...) -> None: ...

class UserLobbyInvitesRevokeRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "invite_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    invite_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., invite_id: _Optional[str] = ...) -> None: ...

class UserLobbyMembershipsListRequest(_message.Message):
    __slots__ = ("user_id", "game_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class UserLobbyMembershipsRemoveRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "membership_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    membership_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., membership_id: _Optional[str] = ...) -> None: ...

class UserLobbyMembershipsBlockRequest(_message.Message):
    __slots__ = ("user_id", "game_id", "membership_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    game_id: str
    membership_id: str
    def __init__(self, user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., membership_id: _Optional[str] = ...) -> None: ...

class UserLobbyMyGamesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserLobbyMyApplicationsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserLobbyMyInvitesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserLobbyMyRaceNamesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserLobbyRaceNamesRegisterRequest(_message.Message):
    __slots__ = ("user_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    body: RaceNameRegisterRequest
    def __init__(self, user_id: _Optional[str] = ..., body: _Optional[_Union[RaceNameRegisterRequest, _Mapping]] = ...) -> None: ...

class AdminGamesListRequest(_message.Message):
    __slots__ = ("admin_username", "page", "page_size")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    page: int
    page_size: int
    def __init__(self, admin_username: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class AdminGamesCreateRequest(_message.Message):
    __slots__ = ("admin_username", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    body: AdminGameCreateRequest
    def __init__(self, admin_username: _Optional[str] = ..., body: _Optional[_Union[AdminGameCreateRequest, _Mapping]] = ...) -> None: ...

class AdminGamesGetRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminGamesForceStartRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminGamesForceStopRequest(_message.Message):
    __slots__ = ("admin_username", "game_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ...) -> None: ...

class AdminGamesBanMemberRequest(_message.Message):
    __slots__ = ("admin_username", "game_id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    game_id: str
    body: AdminGameBanMemberRequest
    def __init__(self, admin_username: _Optional[str] = ..., game_id: _Optional[str] = ..., body: _Optional[_Union[AdminGameBanMemberRequest, _Mapping]] = ...) -> None: ...

class GameSummary(_message.Message):
    __slots__ = ("game_id", "game_name", "game_type", "status", "owner_user_id", "min_players", "max_players", "enrollment_ends_at", "created_at", "updated_at", "current_turn")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_NAME_FIELD_NUMBER: _ClassVar[int]
    GAME_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TURN_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    game_name: str
    game_type: str
    status: str
    owner_user_id: str
    min_players: int
    max_players: int
    enrollment_ends_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    current_turn: int
    def __init__(self, game_id: _Optional[str] = ..., game_name: _Optional[str] = ..., game_type: _Optional[str] = ..., status: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., min_players: _Optional[int] = ..., max_players: _Optional[int] = ..., enrollment_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_turn: _Optional[int] = ...) -> None: ...

class GameSummaryPage(_message.Message):
    __slots__ = ("items", "page", "page_size", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[GameSummary]
    page: int
    page_size: int
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[GameSummary, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class MyGamesListResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[GameSummary]
    def __init__(self, items: _Optional[_Iterable[_Union[GameSummary, _Mapping]]] = ...) -> None: ...

class LobbyGameCreateRequest(_message.Message):
    __slots__ = ("game_name", "visibility", "description", "min_players", "max_players", "start_gap_hours", "start_gap_players", "enrollment_ends_at", "turn_schedule", "target_engine_version")
    GAME_NAME_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIN_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    TURN_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    game_name: str
    visibility: str
    description: str
    min_players: int
    max_players: int
    start_gap_hours: int
    start_gap_players: int
    enrollment_ends_at: _timestamp_pb2.Timestamp
    turn_schedule: str
    target_engine_version: str
    def __init__(self, game_name: _Optional[str] = ..., visibility: _Optional[str] = ..., description: _Optional[str] = ..., min_players: _Optional[int] = ..., max_players: _Optional[int] = ..., start_gap_hours: _Optional[int] = ..., start_gap_players: _Optional[int] = ..., enrollment_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., turn_schedule: _Optional[str] = ..., target_engine_version: _Optional[str] = ...) -> None: ...

class LobbyGameUpdateRequest(_message.Message):
    __slots__ = ("game_name", "description", "enrollment_ends_at", "turn_schedule", "target_engine_version", "min_players", "max_players", "start_gap_hours", "start_gap_players")
    GAME_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    TURN_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    game_name: str
    description: str
    enrollment_ends_at: _timestamp_pb2.Timestamp
    turn_schedule: str
    target_engine_version: str
    min_players: int
    max_players: int
    start_gap_hours: int
    start_gap_players: int
    def __init__(self, game_name: _Optional[str] = ..., description: _Optional[str] = ..., enrollment_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., turn_schedule: _Optional[str] = ..., target_engine_version: _Optional[str] = ..., min_players: _Optional[int] = ..., max_players: _Optional[int] = ..., start_gap_hours: _Optional[int] = ..., start_gap_players: _Optional[int] = ...) -> None: ...

class AdminGameCreateRequest(_message.Message):
    __slots__ = ("game_name", "description", "min_players", "max_players", "start_gap_hours", "start_gap_players", "enrollment_ends_at", "turn_schedule", "target_engine_version")
    GAME_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIN_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    TURN_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    game_name: str
    description: str
    min_players: int
    max_players: int
    start_gap_hours: int
    start_gap_players: int
    enrollment_ends_at: _timestamp_pb2.Timestamp
    turn_schedule: str
    target_engine_version: str
    def __init__(self, game_name: _Optional[str] = ..., description: _Optional[str] = ..., min_players: _Optional[int] = ..., max_players: _Optional[int] = ..., start_gap_hours: _Optional[int] = ..., start_gap_players: _Optional[int] = ..., enrollment_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., turn_schedule: _Optional[str] = ..., target_engine_version: _Optional[str] = ...) -> None: ...

class LobbyGameDetail(_message.Message):
    __slots__ = ("game_id", "game_name", "game_type", "status", "owner_user_id", "min_players", "max_players", "enrollment_ends_at", "created_at", "updated_at", "current_turn", "visibility", "description", "turn_schedule", "target_engine_version", "start_gap_hours", "start_gap_players", "runtime_status", "engine_health", "started_at", "finished_at")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_NAME_FIELD_NUMBER: _ClassVar[int]
    GAME_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TURN_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TURN_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    START_GAP_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_GAP_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_STATUS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_HEALTH_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    game_name: str
    game_type: str
    status: str
    owner_user_id: str
    min_players: int
    max_players: int
    enrollment_ends_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    current_turn: int
    visibility: str
    description: str
    turn_schedule: str
    target_engine_version: str
    start_gap_hours: int
    start_gap_players: int
    runtime_status: str
    engine_health: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, game_id: _Optional[str] = ..., game_name: _Optional[str] = ..., game_type: _Optional[str] = ..., status: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., min_players: _Optional[int] = ..., max_players: _Optional[int] = ..., enrollment_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_turn: _Optional[int] = ..., visibility: _Optional[str] = ..., description: _Optional[str] = ..., turn_schedule: _Optional[str] = ..., target_engine_version: _Optional[str] = ..., start_gap_hours: _Optional[int] = ..., start_gap_players: _Optional[int] = ..., runtime_status: _Optional[str] = ..., engine_health: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LobbyGameStateChange(_message.Message):
    __slots__ = ("game_id", "status", "runtime_status")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_STATUS_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    status: str
    runtime_status: str
    def __init__(self, game_id: _Optional[str] = ..., status: _Optional[str] = ..., runtime_status: _Optional[str] = ...) -> None: ...

class LobbyApplicationSubmitRequest(_message.Message):
    __slots__ = ("race_name",)
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    race_name: str
    def __init__(self, race_name: _Optional[str] = ...) -> None: ...

class LobbyApplicationDetail(_message.Message):
    __slots__ = ("application_id", "game_id", "applicant_user_id", "race_name", "status", "created_at", "decided_at")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    game_id: str
    applicant_user_id: str
    race_name: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    def __init__(self, application_id: _Optional[str] = ..., game_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., race_name: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LobbyApplicationList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LobbyApplicationDetail]
    def __init__(self, items: _Optional[_Iterable[_Union[LobbyApplicationDetail, _Mapping]]] = ...) -> None: ...

class LobbyInviteIssueRequest(_message.Message):
    __slots__ = ("invited_user_id", "race_name", "expires_at")
    INVITED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    invited_user_id: str
    race_name: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, invited_user_id: _Optional[str] = ..., race_name: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LobbyInviteDetail(_message.Message):
    __slots__ = ("invite_id", "game_id", "inviter_user_id", "invited_user_id", "code", "race_name", "status", "created_at", "expires_at", "decided_at")
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    INVITER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    INVITED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    invite_id: str
    game_id: str
    inviter_user_id: str
    invited_user_id: str
    code: str
    race_name: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    def __init__(self, invite_id: _Optional[str] = ..., game_id: _Optional[str] = ..., inviter_user_id: _Optional[str] = ..., invited_user_id: _Optional[str] = ..., code: _Optional[str] = ..., race_name: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LobbyInviteList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LobbyInviteDetail]
    def __init__(self, items: _Optional[_Iterable[_Union[LobbyInviteDetail, _Mapping]]] = ...) -> None: ...

class LobbyMembershipDetail(_message.Message):
    __slots__ = ("membership_id", "game_id", "user_id", "race_name", "canonical_key", "status", "joined_at", "removed_at")
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    membership_id: str
    game_id: str
    user_id: str
    race_name: str
    canonical_key: str
    status: str
    joined_at: _timestamp_pb2.Timestamp
    removed_at: _timestamp_pb2.Timestamp
    def __init__(self, membership_id: _Optional[str] = ..., game_id: _Optional[str] = ..., user_id: _Optional[str] = ..., race_name: _Optional[str] = ..., canonical_key: _Optional[str] = ..., status: _Optional[str] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LobbyMembershipList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LobbyMembershipDetail]
    def __init__(self, items: _Optional[_Iterable[_Union[LobbyMembershipDetail, _Mapping]]] = ...) -> None: ...

class RaceNameDetail(_message.Message):
    __slots__ = ("name", "canonical", "status", "owner_user_id", "game_id", "source_game_id", "reserved_at", "expires_at", "registered_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_GAME_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    canonical: str
    status: str
    owner_user_id: str
    game_id: str
    source_game_id: str
    reserved_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., canonical: _Optional[str] = ..., status: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., game_id: _Optional[str] = ..., source_game_id: _Optional[str] = ..., reserved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RaceNameList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[RaceNameDetail]
    def __init__(self, items: _Optional[_Iterable[_Union[RaceNameDetail, _Mapping]]] = ...) -> None: ...

class RaceNameRegisterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class AdminGameList(_message.Message):
    __slots__ = ("items", "page", "page_size", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LobbyGameDetail]
    page: int
    page_size: int
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[LobbyGameDetail, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class AdminGameBanMemberRequest(_message.Message):
    __slots__ = ("user_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class InternalGetActiveMemberRequest(_message.Message):
    __slots__ = ("game_id", "user_id")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    user_id: str
    def __init__(self, game_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ActiveMember(_message.Message):
    __slots__ = ("game_id", "user_id", "race_name")
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RACE_NAME_FIELD_NUMBER: _ClassVar[int]
    game_id: str
    user_id: str
    race_name: str
    def __init__(self, game_id: _Optional[str] = ..., user_id: _Optional[str] = ..., race_name: _Optional[str] = ...) -> None: ...
