"""galaxy_kit.validation: the e-mail, UUID, time-zone and language-tag checks every service shares."""

from __future__ import annotations

import uuid

import pytest
from galaxy_kit.validation import (
    canonical_language_tag,
    choose_locale,
    is_time_zone,
    lookup_locale,
    parse_accept_language,
    parse_email,
    parse_uuid,
)

SUPPORTED = ["en", "de", "ru"]


def test_email_addresses_are_normalised():
    parsed = parse_email("  Jane.Doe@Example.ORG ")
    assert (parsed.address, parsed.key) == ("Jane.Doe@example.org", "jane.doe@example.org")
    assert parse_email("pilot@example.test").address == "pilot@example.test"  # RFC 2606 test names
    assert parse_email("me@devbox").address == "me@devbox"
    assert parse_email("Zoë@Bücher.example").address == "Zoë@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "bad",
    ["", "jane", "jane@", "@example.org", "jane@-example", "jane@example.", "ja ne@example.org",
     "a@b@example.org", "<a>@example.org", "nul\x00@example.org", "a" * 250 + "@x.org", "a..b@example.org",
     "x@bad_domain.test", "two@@example.test", "me@localhost", "Jane <jane@example.org>"],
)
def test_malformed_email_addresses_are_refused(bad):
    assert parse_email(bad) is None


def test_uuids_and_time_zones():
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value
    assert parse_uuid("not-a-uuid") is None and parse_uuid(None) is None
    assert is_time_zone("Europe/Berlin") and is_time_zone("UTC")
    for bad in ("europe/berlin", "/etc/localtime", "Local", "+02:00", "Mars/Olympus_Mons", ""):
        assert not is_time_zone(bad)


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("en", "en"), ("EN-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("de-CH-1901", "de-CH-1901"),
        ("es-419", "es-419"), ("sl-rozaj-biske", "sl-rozaj-biske"), ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),
        ("x-whatever", "x-whatever"), ("i-klingon", "i-klingon"), ("zh-min-nan", "zh-min-nan"),
        ("zh-yue-HK", "zh-yue-HK"), ("sr-Latn-RS", "sr-Latn-RS"), ("en-GB-OED", "en-GB-oed"),
        ("qq-QQ", "qq-QQ"),  # well-formed; the registry is not consulted
    ],
)
def test_well_formed_language_tags_are_canonicalised(tag, canonical):
    assert canonical_language_tag(tag) == canonical


@pytest.mark.parametrize(
    "tag",
    ["", "e", "en_US", "en-", "-en", "en--US", "123", "de-1901-1901", "en-a-x", "en-a-bbb-a-ccc", "x",
     "en-x", "toolonglanguage", "en-US-", "ру", "en US", "a" * 70, "en-a", "en-Latn-Latn-US"],
)
def test_malformed_language_tags_are_refused(tag):
    assert canonical_language_tag(tag) is None


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        (None, None, "en"),
        ("", "de", "de"),
        ("DE", None, "de"),
        ("de_CH", None, "de"),
        ("de-AT", "ru", "de"),
        ("fr", "ru", "ru"),
        ("!!", "ru", "ru"),
        ("xx-not-a-locale!", "ru-RU;q=0.9, de;q=0.8", "ru"),
        (None, "fr;q=1, ru;q=0.3, de;q=0.7", "de"),
        (None, "ru;q=0.5, de;q=0.5", "ru"),  # ties keep header order
        (None, "de;q=0, *", "en"),
        (None, "en;q=0, *;q=0.1", "de"),  # `*` is any locale not refused
        (None, "de;q=2, ru", "ru"),  # an invalid q-value drops that member
        (None, "de;q=0.1234", "en"),
        (None, "garbage,,;q=;", "en"),
        (None, "fr-CA, ja", "en"),
        (None, "DE_de", "de"),
        (None, "not a locale!", "en"),
    ],
)
def test_choose_locale(explicit, header, expected):
    assert choose_locale(explicit=explicit, accept_language=header, supported=SUPPORTED) == expected


def test_the_fallback_is_the_first_supported_locale():
    assert choose_locale(explicit="fr", accept_language="ja", supported=["de", "en"]) == "de"


def test_accept_language_is_ordered_by_q():
    assert parse_accept_language("da, en-GB;q=0.8, en;q=0.7") == [("da", 1.0), ("en-GB", 0.8), ("en", 0.7)]


def test_lookup_truncates_then_falls_back_to_the_primary_language():
    assert lookup_locale("zh-Hant-TW", ["en", "zh-hant"]) == "zh-hant"
    assert lookup_locale("de-AT-1996", ["en", "de-AT"]) == "de-AT"
    assert lookup_locale("de", ["en", "de-CH"]) == "de-CH"
    assert lookup_locale("fr", ["en", "de"]) is None
