import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdminMailListDeliveriesRequest(_message.Message):
    __slots__ = ("admin_username", "page", "page_size")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    page: int
    page_size: int
    def __init__(self, admin_username: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class AdminMailGetDeliveryRequest(_message.Message):
    __slots__ = ("admin_username", "delivery_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    delivery_id: str
    def __init__(self, admin_username: _Optional[str] = ..., delivery_id: _Optional[str] = ...) -> None: ...

class AdminMailListDeliveryAttemptsRequest(_message.Message):
    __slots__ = ("admin_username", "delivery_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    delivery_id: str
    def __init__(self, admin_username: _Optional[str] = ..., delivery_id: _Optional[str] = ...) -> None: ...

class AdminMailResendDeliveryRequest(_message.Message):
    __slots__ = ("admin_username", "delivery_id")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    delivery_id: str
    def __init__(self, admin_username: _Optional[str] = ..., delivery_id: _Optional[str] = ...) -> None: ...

class AdminMailListDeadLettersRequest(_message.Message):
    __slots__ = ("admin_username", "page", "page_size")
    ADMIN_USERNAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    admin_username: str
    page: int
    page_size: int
    def __init__(self, admin_username: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class MailDelivery(_message.Message):
    __slots__ = ("delivery_id", "template_id", "idempotency_key", "status", "attempts", "next_attempt_at", "created_at")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    template_id: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, delivery_id: _Optional[str] = ..., template_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., next_attempt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MailDeliveryList(_message.Message):
    __slots__ = ("items", "page", "page_size", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MailDelivery]
    page: int
    page_size: int
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[MailDelivery, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class MailAttempt(_message.Message):
    __slots__ = ("attempt_id", "delivery_id", "attempt_no", "started_at", "finished_at", "outcome", "error")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NO_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    delivery_id: str
    attempt_no: int
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    outcome: str
    error: str
    def __init__(self, attempt_id: _Optional[str] = ..., delivery_id: _Optional[str] = ..., attempt_no: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class MailAttemptList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MailAttempt]
    def __init__(self, items: _Optional[_Iterable[_Union[MailAttempt, _Mapping]]] = ...) -> None: ...

class MailDeadLetter(_message.Message):
    __slots__ = ("dead_letter_id", "delivery_id", "archived_at", "reason")
    DEAD_LETTER_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    dead_letter_id: str
    delivery_id: str
    archived_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, dead_letter_id: _Optional[str] = ..., delivery_id: _Optional[str] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class MailDeadLetterList(_message.Message):
    __slots__ = ("items", "page", "page_size", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MailDeadLetter]
    page: int
    page_size: int
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[MailDeadLetter, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class EnqueueDeliveryRequest(_message.Message):
    __slots__ = ("idempotency_key", "template_id", "recipient", "locale", "variables")
    class VariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    template_id: str
    recipient: str
    locale: str
    variables: _containers.ScalarMap[str, str]
    def __init__(self, idempotency_key: _Optional[str] = ..., template_id: _Optional[str] = ..., recipient: _Optional[str] = ..., locale: _Optional[str] = ..., variables: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EnqueueDeliveryResponse(_message.Message):
    __slots__ = ("delivery_id", "created")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    created: bool
    def __init__(self, delivery_id: _Optional[str] = ..., created: _Optional[bool] = ...) -> None: ...

class EnqueueDeliveriesRequest(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[EnqueueDeliveryRequest]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[EnqueueDeliveryRequest, _Mapping]]] = ...) -> None: ...

class EnqueueDeliveriesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EnqueueDeliveryResult]
    def __init__(self, results: _Optional[_Iterable[_Union[EnqueueDeliveryResult, _Mapping]]] = ...) -> None: ...

class EnqueueDeliveryResult(_message.Message):
    __slots__ = ("delivery_id", "created", "error")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    created: bool
    error: str
    def __init__(self, delivery_id: _Optional[str] = ..., created: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...
