"""Checks on what clients send: e-mail addresses, Ed25519 public keys, IANA time zones, ids."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

import nacl.exceptions
from galaxy_kit.errors import InvalidArgument
from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.signing import VerifyKey

ED25519_PUBLIC_KEY_BYTES = 32
MAX_EMAIL_LENGTH = 254

# A pragmatic address shape: a local part without spaces or delimiters, and a
# domain of LDH labels (IDNs arrive as punycode). A single label is allowed, as
# the mail service allows it (`me@localhost` on a developer machine).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class EmailAddress:
    #: As delivered to: trimmed, domain lower-cased.
    address: str
    #: Fully lower-cased: the key of rate limits.
    key: str


def parse_email(value: str) -> EmailAddress:
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidArgument("email is not a valid e-mail address")
    local, _, domain = value.rpartition("@")
    address = f"{local}@{domain.lower()}"
    return EmailAddress(address=address, key=address.lower())


def parse_public_key(value: str) -> str:
    """The key re-encoded canonically (standard base64 of the raw 32 bytes), or InvalidArgument."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII input
        raise InvalidArgument("client_public_key must be standard base64") from None
    if len(raw) != ED25519_PUBLIC_KEY_BYTES:
        raise InvalidArgument("client_public_key must be a raw 32-byte Ed25519 public key")
    try:
        VerifyKey(raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise InvalidArgument("client_public_key is not a valid Ed25519 public key") from None
    # Canonical encoding, on the curve, in the prime-order subgroup, not of small order.
    if not crypto_core_ed25519_is_valid_point(raw):
        raise InvalidArgument("client_public_key is not a valid Ed25519 public key")
    return base64.b64encode(raw).decode("ascii")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_time_zone(value: str) -> str:
    if value not in _time_zones():
        raise InvalidArgument("time_zone must be an IANA time-zone name, for example Europe/Berlin")
    return value


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID, or None when `value` is not one (callers choose the error)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def parse_user_id(value: str) -> uuid.UUID:
    user_id = parse_uuid(value)
    if user_id is None:
        raise InvalidArgument("user id must be a UUID")
    return user_id
