"""Login codes: six random digits, stored only as an HMAC.

The digest is HMAC-SHA256 under the server-side key (GALAXY_AUTH_CODE_PEPPER,
settings.code_key) over the challenge id and the code, so equal codes of two
challenges hash differently, and a copy of the database alone does not let
anyone try the million possible codes offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(key: bytes, challenge_id: uuid.UUID, code: str) -> bytes:
    return hmac.new(key, challenge_id.bytes + code.encode(), hashlib.sha256).digest()


def matches(key: bytes, challenge_id: uuid.UUID, stored: bytes, submitted: str) -> bool:
    """Constant-time comparison of the submitted code (surrounding spaces ignored) with the stored digest."""
    return hmac.compare_digest(stored, digest(key, challenge_id, submitted.strip()))
