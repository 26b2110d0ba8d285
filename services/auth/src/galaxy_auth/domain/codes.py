"""Login codes: six random digits, stored only as an HMAC; sealed while they wait for mail.

The digest is HMAC-SHA256 under the server-side key (GALAXY_AUTH_CODE_PEPPER,
settings.code_key) over the challenge id and the code, so equal codes of two
challenges hash differently, and a copy of the database alone does not let
anyone try the million possible codes offline.

Until mail accepted it, the code waits in auth.login_code_mail sealed with
XSalsa20-Poly1305 (PyNaCl SecretBox) under another key derived from the
pepper (settings.code_seal_key); the sealed text binds the challenge id, so a
sealed code copied onto another challenge's row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from nacl.secret import SecretBox

CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(key: bytes, challenge_id: uuid.UUID, code: str) -> bytes:
    return hmac.new(key, challenge_id.bytes + code.encode(), hashlib.sha256).digest()


def matches(key: bytes, challenge_id: uuid.UUID, stored: bytes, submitted: str) -> bool:
    """Constant-time comparison of the submitted code (surrounding spaces ignored) with the stored digest."""
    return hmac.compare_digest(stored, digest(key, challenge_id, submitted.strip()))


def seal(key: bytes, challenge_id: uuid.UUID, code: str) -> bytes:
    return bytes(SecretBox(key).encrypt(challenge_id.bytes + code.encode()))


def unseal(key: bytes, challenge_id: uuid.UUID, sealed: bytes) -> str:
    """The code; nacl.exceptions.CryptoError (or ValueError) when it was not sealed for this challenge."""
    plain = SecretBox(key).decrypt(sealed)
    if plain[:16] != challenge_id.bytes:
        raise ValueError("sealed code belongs to another challenge")
    return plain[16:].decode()
