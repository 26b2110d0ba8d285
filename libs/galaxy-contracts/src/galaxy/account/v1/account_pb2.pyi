import datetime

from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserAccountGetRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserAccountUpdateProfileRequest(_message.Message):
    __slots__ = ("user_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    body: UpdateProfileRequest
    def __init__(self, user_id: _Optional[str] = ..., body: _Optional[_Union[UpdateProfileRequest, _Mapping]] = ...) -> None: ...

class UserAccountUpdateSettingsRequest(_message.Message):
    __slots__ = ("user_id", "body")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    body: UpdateSettingsRequest
    def __init__(self, user_id: _Optional[str] = ..., body: _Optional[_Union[UpdateSettingsRequest, _Mapping]] = ...) -> None: ...

class UserAccountDeleteRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class AdminUsersListRequest(_message.Message):
    __slots__ = ("admin_username", "page", "page_size")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    page: int
    page_size: int
    def __init__(self, admin_username: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class AdminUsersGetRequest(_message.Message):
    __slots__ = ("admin_username", "user_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class AdminUsersAddSanctionRequest(_message.Message):
    __slots__ = ("admin_username", "user_id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    body: AdminUserSanctionRequest
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ..., body: _Optional[_Union[AdminUserSanctionRequest, _Mapping]] = ...) -> None: ...

class AdminUsersAddLimitRequest(_message.Message):
    __slots__ = ("admin_username", "user_id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    body: AdminUserLimitRequest
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ..., body: _Optional[_Union[AdminUserLimitRequest, _Mapping]] = ...) -> None: ...

class AdminUsersAddEntitlementRequest(_message.Message):
    __slots__ = ("admin_username", "user_id", "body")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    body: AdminUserEntitlementRequest
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ..., body: _Optional[_Union[AdminUserEntitlementRequest, _Mapping]] = ...) -> None: ...

class AdminUsersSoftDeleteRequest(_message.Message):
    __slots__ = ("admin_username", "user_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    user_id: str
    def __init__(self, admin_username: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class InternalUsersGetAccountInternalRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ActorRef(_message.Message):
    __slots__ = ("type", "id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    id: str
    def __init__(self, type: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class EntitlementSnapshot(_message.Message):
    __slots__ = ("plan_code", "is_paid", "source", "actor", "reason_code", "starts_at", "ends_at", "max_registered_race_names", "updated_at")
    PLAN_CODE_FIELD_NUMBER: _ClassVar[int]
    IS_PAID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    MAX_REGISTERED_RACE_NAMES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    plan_code: str
    is_paid: bool
    source: str
    actor: ActorRef
    reason_code: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    max_registered_race_names: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, plan_code: _Optional[str] = ..., is_paid: _Optional[bool] = ..., source: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., reason_code: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_registered_race_names: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ActiveSanction(_message.Message):
    __slots__ = ("sanction_code", "scope", "reason_code", "actor", "applied_at", "expires_at")
    SANCTION_CODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    sanction_code: str
    scope: str
    reason_code: str
    actor: ActorRef
    applied_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, sanction_code: _Optional[str] = ..., scope: _Optional[str] = ..., reason_code: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., applied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ActiveLimit(_message.Message):
    __slots__ = ("limit_code", "value", "reason_code", "actor", "applied_at", "expires_at")
    LIMIT_CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    limit_code: str
    value: int
    reason_code: str
    actor: ActorRef
    applied_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, limit_code: _Optional[str] = ..., value: _Optional[int] = ..., reason_code: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., applied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("user_id", "email", "user_name", "display_name", "preferred_language", "time_zone", "declared_country", "entitlement", "active_sanctions", "active_limits", "created_at", "updated_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SANCTIONS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    user_name: str
    display_name: str
    preferred_language: str
    time_zone: str
    declared_country: str
    entitlement: EntitlementSnapshot
    active_sanctions: _containers.RepeatedCompositeFieldContainer[ActiveSanction]
    active_limits: _containers.RepeatedCompositeFieldContainer[ActiveLimit]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., user_name: _Optional[str] = ..., display_name: _Optional[str] = ..., preferred_language: _Optional[str] = ..., time_zone: _Optional[str] = ..., declared_country: _Optional[str] = ..., entitlement: _Optional[_Union[EntitlementSnapshot, _Mapping]] = ..., active_sanctions: _Optional[_Iterable[_Union[ActiveSanction, _Mapping]]] = ..., active_limits: _Optional[_Iterable[_Union[ActiveLimit, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class UpdateProfileRequest(_message.Message):
    __slots__ = ("display_name",)
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    def __init__(self, display_name: _Optional[str] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ("preferred_language", "time_zone")
    PREFERRED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    preferred_language: str
    time_zone: str
    def __init__(self, preferred_language: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class AdminUserList(_message.Message):
    __slots__ = ("items", "page", "page_size", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Account]
    page: int
    page_size: int
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class AdminUserSanctionRequest(_message.Message):
    __slots__ = ("sanction_code", "scope", "reason_code", "actor", "expires_at")
    SANCTION_CODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    sanction_code: str
    scope: str
    reason_code: str
    actor: ActorRef
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, sanction_code: _Optional[str] = ..., scope: _Optional[str] = ..., reason_code: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdminUserLimitRequest(_message.Message):
    __slots__ = ("limit_code", "value", "reason_code", "actor", "expires_at")
    LIMIT_CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    limit_code: str
    value: int
    reason_code: str
    actor: ActorRef
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, limit_code: _Optional[str] = ..., value: _Optional[int] = ..., reason_code: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdminUserEntitlementRequest(_message.Message):
    __slots__ = ("tier", "source", "actor", "reason_code", "starts_at", "ends_at")
    TIER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    tier: str
    source: str
    actor: ActorRef
    reason_code: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    def __init__(self, tier: _Optional[str] = ..., source: _Optional[str] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., reason_code: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EnsureAccountByEmailRequest(_message.Message):
    __slots__ = ("email", "preferred_language", "time_zone")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    email: str
    preferred_language: str
    time_zone: str
    def __init__(self, email: _Optional[str] = ..., preferred_language: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class EnsureAccountByEmailResponse(_message.Message):
    __slots__ = ("outcome", "user_id", "block_reason_code")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCK_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    user_id: str
    block_reason_code: str
    def __init__(self, outcome: _Optional[str] = ..., user_id: _Optional[str] = ..., block_reason_code: _Optional[str] = ...) -> None: ...

class SyncDeclaredCountryRequest(_message.Message):
    __slots__ = ("user_id", "declared_country")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DECLARED_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    declared_country: str
    def __init__(self, user_id: _Optional[str] = ..., declared_country: _Optional[str] = ...) -> None: ...

class SyncDeclaredCountryResponse(_message.Message):
    __slots__ = ("user_id", "declared_country", "updated_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DECLARED_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    declared_country: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., declared_country: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAccountByEmailRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class GetPermanentlyBlockedEmailsRequest(_message.Message):
    __slots__ = ("emails",)
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, emails: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPermanentlyBlockedEmailsResponse(_message.Message):
    __slots__ = ("blocked_emails",)
    BLOCKED_EMAILS_FIELD_NUMBER: _ClassVar[int]
    blocked_emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, blocked_emails: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolveUserIdentityRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ResolveUserIdentityResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...
