import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublicAuthSendEmailCodeRpcRequest(_message.Message):
    __slots__ = ("accept_language", "body")
    ACCEPT_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    accept_language: str
    body: PublicAuthSendEmailCodeRequest
    def __init__(self, accept_language: _Optional[str] = ..., body: _Optional[_Union[PublicAuthSendEmailCodeRequest, _Mapping]] = ...) -> None: ...

class PublicAuthConfirmEmailCodeRpcRequest(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: PublicAuthConfirmEmailCodeRequest
    def __init__(self, body: _Optional[_Union[PublicAuthConfirmEmailCodeRequest, _Mapping]] = ...) -> None: ...

class UserSessionsListRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserSessionsRevokeAllRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserSessionsRevokeRequest(_message.Message):
    __slots__ = ("user_id", "device_session_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    device_session_id: str
    def __init__(self, user_id: _Optional[str] = ..., device_session_id: _Optional[str] = ...) -> None: ...

class AdminAdminAccountsListRequest(_message.Message):
    __slots__ = ("admin_username",)
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    def __init__(self, admin_username: _Optional[str] = ...) -> None: ...

class AdminAdminAccountsCreateRequest(_message.Message):
    __slots__ = ("admin_username", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    body: AdminAccountCreateRequest
    def __init__(self, admin_username: _Optional[str] = ..., body: _Optional[_Union[AdminAccountCreateRequest, _Mapping]] = ...) -> None: ...

class AdminAdminAccountsGetRequest(_message.Message):
    __slots__ = ("admin_username", "username")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    username: str
    def __init__(self, admin_username: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AdminAdminAccountsDisableRequest(_message.Message):
    __slots__ = ("admin_username", "username")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    username: str
    def __init__(self, admin_username: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AdminAdminAccountsEnableRequest(_message.Message):
    __slots__ = ("admin_username", "username")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    username: str
    def __init__(self, admin_username: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AdminAdminAccountsResetPasswordRequest(_message.Message):
    __slots__ = ("admin_username", "username", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    username: str
    body: AdminAccountResetPasswordRequest
    def __init__(self, admin_username: _Optional[str] = ..., username: _Optional[str] = ..., body: _Optional[_Union[AdminAccountResetPasswordRequest, _Mapping]] = ...) -> None: ...

class InternalSessionsGetRequest(_message.Message):
    __slots__ = ("device_session_id",)
    DEVICE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    device_session_id: str
    def __init__(self, device_session_id: _Optional[str] = ...) -> None: ...

class PublicAuthSendEmailCodeRequest(_message.Message):
    __slots__ = ("email", "locale")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    email: str
    locale: str
    def __init__(self, email: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class PublicAuthSendEmailCodeResponse(_message.Message):
    __slots__ = ("challenge_id",)
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    def __init__(self, challenge_id: _Optional[str] = ...) -> None: ...

class PublicAuthConfirmEmailCodeRequest(_message.Message):
    __slots__ = ("challenge_id", "code", "client_public_key", "time_zone")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    code: str
    client_public_key: str
    time_zone: str
    def __init__(self, challenge_id: _Optional[str] = ..., code: _Optional[str] = ..., client_public_key: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class PublicAuthConfirmEmailCodeResponse(_message.Message):
    __slots__ = ("device_session_id",)
    DEVICE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    device_session_id: str
    def __init__(self, device_session_id: _Optional[str] = ...) -> None: ...

class AdminAccount(_message.Message):
    __slots__ = ("username", "created_at", "last_used_at", "disabled_at")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    DISABLED_AT_FIELD_NUMBER: _ClassVar[int]
    username: str
    created_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    disabled_at: _timestamp_pb2.Timestamp
    def __init__(self, username: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., disabled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdminAccountList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AdminAccount]
    def __init__(self, items: _Optional[_Iterable[_Union[AdminAccount, _Mapping]]] = ...) -> None: ...

class AdminAccountCreateRequest(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class AdminAccountResetPasswordRequest(_message.Message):
    __slots__ = ("password",)
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    password: str
    def __init__(self, password: _Optional[str] = ...) -> None: ...

class DeviceSession(_message.Message):
    __slots__ = ("device_session_id", "user_id", "status", "client_public_key", "created_at", "revoked_at", "last_seen_at")
    DEVICE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    device_session_id: str
    user_id: str
    status: str
    client_public_key: str
    created_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    last_seen_at: _timestamp_pb2.Timestamp
    def __init__(self, device_session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., status: _Optional[str] = ..., client_public_key: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeviceSessionRevocationSummary(_message.Message):
    __slots__ = ("user_id", "revoked_count")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    revoked_count: int
    def __init__(self, user_id: _Optional[str] = ..., revoked_count: _Optional[int] = ...) -> None: ...

class UserSessionList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[DeviceSession]
    def __init__(self, items: _Optional[_Iterable[_Union[DeviceSession, _Mapping]]] = ...) -> None: ...

class CheckAdminCredentialsRequest(_message.Message):
    __slots__ = ("username", "password", "client_address")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    client_address: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., client_address: _Optional[str] = ...) -> None: ...

class AdminPrincipal(_message.Message):
    __slots__ = ("username",)
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    username: str
    def __init__(self, username: _Optional[str] = ...) -> None: ...
