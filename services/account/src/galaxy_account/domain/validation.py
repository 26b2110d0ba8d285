"""Checks on what callers send: e-mail addresses, ids, display names, languages, zones, countries, codes."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from galaxy_kit.errors import InvalidArgument

from galaxy_account.domain.bcp47 import canonical_tag  # noqa: F401 (re-exported)

MAX_EMAIL_LENGTH = 254
DISPLAY_NAME_MAX = 32
#: Punctuation allowed inside a display name (besides single spaces).
DISPLAY_NAME_PUNCTUATION = frozenset("-_.'")

# The same address shape auth accepts (services/auth domain/validation.py).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})*$")
#: source, scope, reason_code, actor type: lower-case snake_case words.
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: actor id: an admin username, a user id, a service name.
_ACTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True)
class EmailAddress:
    #: As given: trimmed, domain lower-cased.
    address: str
    #: Fully lower-cased: the identity key.
    key: str


def parse_email(value: str) -> EmailAddress | None:
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    address = f"{local}@{domain.lower()}"
    return EmailAddress(address=address, key=address.lower())


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def parse_display_name(value: str) -> str | None:
    """The stored display name (None clears it), or InvalidArgument (rules in docs/account.md)."""
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        return None
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidArgument(f"display_name must be at most {DISPLAY_NAME_MAX} characters")
    previous_space = False
    for index, char in enumerate(name):
        category = unicodedata.category(char)
        if char == " ":
            if previous_space:
                raise InvalidArgument("display_name must not contain consecutive spaces")
            previous_space = True
            continue
        previous_space = False
        if category[0] in "LM" or category == "Nd":
            if index == 0 and category[0] == "M":
                raise InvalidArgument("display_name must start with a letter or a digit")
            continue
        if char in DISPLAY_NAME_PUNCTUATION and index > 0:
            continue
        raise InvalidArgument(
            "display_name may contain letters, digits, single spaces and - _ . ' "
            "and must start with a letter or a digit"
        )
    return name


def parse_language(value: str) -> str:
    tag = canonical_tag(value)
    if tag is None:
        raise InvalidArgument("preferred_language must be a BCP 47 language tag, for example en or pt-BR")
    return tag


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _time_zones()


def parse_time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise InvalidArgument("time_zone must be an IANA time-zone name, for example Europe/Berlin")
    return value


def parse_country(value: str) -> str:
    if not _COUNTRY.match(value):
        raise InvalidArgument("declared_country must be an ISO 3166-1 alpha-2 code, for example DE")
    return value.upper()


def parse_code(field: str, value: str) -> str:
    if not _CODE.match(value):
        raise InvalidArgument(f"{field} must be 1-64 characters of a-z, 0-9 and _, starting with a letter")
    return value


def parse_actor(actor_type: str, actor_id: str | None) -> tuple[str, str | None]:
    parse_code("actor.type", actor_type)
    if actor_id is not None and actor_id != "" and not _ACTOR_ID.match(actor_id):
        raise InvalidArgument("actor.id must be 1-128 characters of letters, digits and _ . : @ -")
    return actor_type, actor_id or None


def require_future(field: str, value: datetime | None, now: datetime) -> None:
    if value is not None and value <= now:
        raise InvalidArgument(f"{field} must be in the future")
