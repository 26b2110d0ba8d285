"""Auth's rules without I/O: locale choice, input checks, code digests, settings."""

from __future__ import annotations

import base64
import uuid

import nacl.exceptions
import pytest
from galaxy_kit.errors import InvalidArgument
from galaxy_kit.validation import choose_locale
from nacl.signing import SigningKey
from pydantic import ValidationError

from galaxy_auth.domain import codes
from galaxy_auth.domain.validation import parse_email, parse_public_key, parse_time_zone
from galaxy_auth.settings import AuthSettings

SUPPORTED = ["en", "de", "ru"]


def test_the_mail_locale_comes_from_the_kits_choice_among_the_configured_locales():
    # The negotiation itself is galaxy_kit.validation's (libs/galaxy-kit/tests/test_validation.py).
    assert choose_locale(explicit="de_CH", accept_language=None, supported=SUPPORTED) == "de"
    assert choose_locale(explicit="fr", accept_language="ja", supported=["de", "en"]) == "de"


def test_public_keys():
    raw = bytes(SigningKey.generate().verify_key)
    assert parse_public_key(base64.b64encode(raw).decode()) == base64.b64encode(raw).decode()
    for bad in ("ü", "AAAA", base64.b64encode(b"\x01" + bytes(31)).decode(), base64.b64encode(raw) .decode() + "\n"):
        with pytest.raises(InvalidArgument):
            parse_public_key(bad)


def test_time_zones():
    assert parse_time_zone("Asia/Kolkata") == "Asia/Kolkata"
    assert parse_time_zone("UTC") == "UTC"
    for bad in ("asia/kolkata", "/etc/localtime", "Local", "+02:00"):
        with pytest.raises(InvalidArgument):
            parse_time_zone(bad)


def test_email_normalisation():
    parsed = parse_email("  Jane.Doe@Example.ORG ")
    assert parsed.address == "Jane.Doe@example.org"
    assert parsed.key == "jane.doe@example.org"
    assert parse_email("me@devbox").address == "me@devbox"  # a single-label host is fine
    for bad in ("me@localhost", "jane", "jane@", "a..b@example.org", "@example.org", "jane@-example", "jane@example.", "ja ne@example.org",
                "a@b@example.org", "<a>@example.org", "nul\x00@example.org", "a" * 250 + "@x.org"):
        with pytest.raises(InvalidArgument):
            parse_email(bad)


def test_codes_are_six_digits_and_keyed_per_challenge():
    generated = {codes.new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in generated)
    assert len(generated) > 150
    key, first, second = b"k" * 32, uuid.uuid4(), uuid.uuid4()
    assert codes.digest(key, first, "123456") != codes.digest(key, second, "123456")
    assert codes.digest(key, first, "123456") != codes.digest(b"j" * 32, first, "123456")
    stored = codes.digest(key, first, "123456")
    assert codes.matches(key, first, stored, " 123456 ")
    assert not codes.matches(key, first, stored, "123457")


PEPPER = "p" * 32


def test_settings_defaults():
    settings = AuthSettings(auth_code_pepper=PEPPER)
    assert settings.admin_bcrypt_rounds == 12
    assert settings.auth_code_ttl_seconds == 600
    assert (settings.auth_code_max_attempts, settings.auth_code_rate_limit) == (5, 5)
    assert settings.auth_code_rate_window_seconds == 900
    assert settings.mail_locales()[0] == "en"
    assert settings.auth_login_code_template == "login_code"
    assert settings.admin_bcrypt_workers == 2
    assert (settings.admin_throttle_username_failures, settings.admin_throttle_address_failures) == (10, 30)
    assert settings.admin_throttle_window_seconds == 300


def test_the_pepper_is_required_and_keys_come_only_from_it(monkeypatch):
    monkeypatch.delenv("GALAXY_AUTH_CODE_PEPPER", raising=False)
    with pytest.raises(ValidationError) as raised:
        AuthSettings(database_url="postgresql://a/b")  # no fallback derived from the DSN any more
    assert "GALAXY_AUTH_CODE_PEPPER is not set" in str(raised.value)
    with pytest.raises(ValidationError):
        AuthSettings(auth_code_pepper="too short")
    one = AuthSettings(auth_code_pepper=PEPPER, database_url="postgresql://a/b")
    assert one.code_key() == AuthSettings(auth_code_pepper=PEPPER, database_url="postgresql://a/c").code_key()
    assert one.code_key() != AuthSettings(auth_code_pepper="q" * 32).code_key()
    assert one.code_seal_key() != one.code_key() and len(one.code_seal_key()) == 32


def test_secret_settings_never_show_in_clear():
    settings = AuthSettings(
        auth_code_pepper=PEPPER,
        admin_password="correct horse battery staple",
        database_url="postgresql://galaxy:dsn-secret@db/galaxy",
    )
    shown = repr(settings) + str(settings.model_dump())
    for secret in (PEPPER, "correct horse battery staple", "dsn-secret"):
        assert secret not in shown
    assert settings.database_dsn() == "postgresql://galaxy:dsn-secret@db/galaxy"
    assert settings.admin_password.get_secret_value() == "correct horse battery staple"


def test_codes_are_sealed_for_their_challenge():
    key, challenge, other = b"s" * 32, uuid.uuid4(), uuid.uuid4()
    sealed = codes.seal(key, challenge, "012345")
    assert b"012345" not in sealed
    assert codes.unseal(key, challenge, sealed) == "012345"
    with pytest.raises(ValueError):
        codes.unseal(key, other, sealed)
    with pytest.raises(nacl.exceptions.CryptoError):
        codes.unseal(b"t" * 32, challenge, sealed)


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GALAXY_AUTH_CODE_PEPPER", "e" * 40)
    monkeypatch.setenv("GALAXY_AUTH_MAIL_LOCALES", "en, de")
    monkeypatch.setenv("GALAXY_AUTH_CODE_TTL_SECONDS", "300")
    monkeypatch.setenv("GALAXY_MAIL_GRPC_TARGET", "mail:50055")
    monkeypatch.setenv("GALAXY_ACCOUNT_GRPC_TARGET", "account:50052")
    settings = AuthSettings()
    assert settings.auth_code_pepper.get_secret_value() == "e" * 40
    assert settings.mail_locales() == ["en", "de"]
    assert settings.auth_code_ttl_seconds == 300
    assert (settings.mail_grpc_target, settings.account_grpc_target) == ("mail:50055", "account:50052")
