"""Checks on what clients send: e-mail addresses, Ed25519 public keys, IANA time zones, ids.

The shapes every service shares (e-mail, UUID, time zone) come from
galaxy_kit.validation; this module only chooses auth's errors and messages.
"""

from __future__ import annotations

import base64
import uuid

import nacl.exceptions
from galaxy_kit import validation
from galaxy_kit.errors import InvalidArgument
from galaxy_kit.validation import EmailAddress, parse_uuid
from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.signing import VerifyKey

__all__ = ["EmailAddress", "parse_email", "parse_public_key", "parse_time_zone", "parse_user_id", "parse_uuid"]

ED25519_PUBLIC_KEY_BYTES = 32


def parse_email(value: str) -> EmailAddress:
    """Trimmed, domain lower-cased; `key` fully lower-cased (the rate-limit key)."""
    address = validation.parse_email(value)
    if address is None:
        raise InvalidArgument("email is not a valid e-mail address")
    return address


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


def parse_time_zone(value: str) -> str:
    if not validation.is_time_zone(value):
        raise InvalidArgument("time_zone must be an IANA time-zone name, for example Europe/Berlin")
    return value


def parse_user_id(value: str) -> uuid.UUID:
    user_id = parse_uuid(value)
    if user_id is None:
        raise InvalidArgument("user id must be a UUID")
    return user_id
