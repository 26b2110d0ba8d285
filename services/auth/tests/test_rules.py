"""Auth's rules without I/O: locale choice, input checks, code digests, settings."""

from __future__ import annotations

import base64
import uuid

import pytest
from galaxy_kit.errors import InvalidArgument
from nacl.signing import SigningKey
from pydantic import ValidationError

from galaxy_auth.domain import codes
from galaxy_auth.domain.locales import choose_locale, parse_accept_language
from galaxy_auth.domain.validation import parse_email, parse_public_key, parse_time_zone
from galaxy_auth.settings import AuthSettings

SUPPORTED = ["en", "de", "ru"]


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (None, None, "en"),
        ("", "de", "de"),
        ("DE", None, "de"),
        ("de_CH", None, "de"),
        ("fr", "ru", "ru"),
        ("!!", "ru", "ru"),
        (None, "fr;q=1, ru;q=0.3, de;q=0.7", "de"),
        (None, "ru;q=0.5, de;q=0.5", "ru"),  # ties keep header order
        (None, "de;q=0, *", "en"),
        (None, "en;q=0, *;q=0.1", "de"),  # `*` is any locale not refused
        (None, "de;q=2, ru", "ru"),  # an invalid q-value drops that member
        (None, "de;q=0.1234", "en"),
        (None, "garbage,,;q=;", "en"),
    ],
)
def test_choose_locale(body, header, expected):
    assert choose_locale(body_locale=body, accept_language=header, supported=SUPPORTED) == expected


def test_fallback_is_the_first_configured_locale():
    assert choose_locale(body_locale="fr", accept_language="ja", supported=["de", "en"]) == "de"


def test_parse_accept_language_orders_by_q():
    assert parse_accept_language("da, en-GB;q=0.8, en;q=0.7") == [("da", 1.0), ("en-GB", 0.8), ("en", 0.7)]


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
    assert parse_email("me@localhost").address == "me@localhost"
    for bad in ("jane", "jane@", "@example.org", "jane@-example", "jane@example.", "ja ne@example.org",
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


def test_settings_defaults_and_pepper():
    settings = AuthSettings()
    assert settings.admin_bcrypt_rounds == 12
    assert settings.auth_code_ttl_seconds == 600
    assert (settings.auth_code_max_attempts, settings.auth_code_rate_limit) == (5, 5)
    assert settings.auth_code_rate_window_seconds == 900
    assert settings.mail_locales()[0] == "en"
    assert settings.auth_login_code_template == "login_code"
    # Unset pepper: a development key derived from the DSN — equal on every replica of one database.
    assert settings.code_pepper_is_derived()
    assert AuthSettings(database_url="postgresql://a/b").code_key() == AuthSettings(database_url="postgresql://a/b").code_key()
    assert AuthSettings(database_url="postgresql://a/b").code_key() != AuthSettings(database_url="postgresql://a/c").code_key()
    peppered = AuthSettings(auth_code_pepper="p" * 32)
    assert not peppered.code_pepper_is_derived() and peppered.code_key() != settings.code_key()
    with pytest.raises(ValidationError):
        AuthSettings(auth_code_pepper="too short")


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GALAXY_AUTH_CODE_PEPPER", "e" * 40)
    monkeypatch.setenv("GALAXY_AUTH_MAIL_LOCALES", "en, de")
    monkeypatch.setenv("GALAXY_AUTH_CODE_TTL_SECONDS", "300")
    monkeypatch.setenv("GALAXY_MAIL_GRPC_TARGET", "mail:50055")
    monkeypatch.setenv("GALAXY_ACCOUNT_GRPC_TARGET", "account:50052")
    settings = AuthSettings()
    assert settings.auth_code_pepper == "e" * 40
    assert settings.mail_locales() == ["en", "de"]
    assert settings.auth_code_ttl_seconds == 300
    assert (settings.mail_grpc_target, settings.account_grpc_target) == ("mail:50055", "account:50052")
