"""Checks on what callers send: e-mail addresses, ids, display names, languages, zones, countries, codes.

E-mail, UUID, time-zone and BCP 47 checks are galaxy_kit.validation's (the
same everywhere in the suite); this module keeps account's own rules and
account's error messages.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from galaxy_kit.errors import InvalidArgument
from galaxy_kit.validation import EmailAddress, is_time_zone, parse_email, parse_uuid
from galaxy_kit.validation import canonical_language_tag as canonical_tag

__all__ = [
    "EmailAddress",
    "canonical_tag",
    "is_time_zone",
    "parse_actor",
    "parse_code",
    "parse_country",
    "parse_display_name",
    "parse_email",
    "parse_language",
    "parse_time_zone",
    "parse_uuid",
    "require_future",
]

DISPLAY_NAME_MAX = 32
#: Punctuation allowed inside a display name (besides single spaces).
DISPLAY_NAME_PUNCTUATION = frozenset("-_.'")

#: source, scope, reason_code, actor type: lower-case snake_case words.
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: actor id: an admin username, a user id, a service name.
_ACTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


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
