"""Unit tests of account's rules: BCP 47 tags, display names, user names, the entitlement snapshot."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from galaxy_kit.errors import InvalidArgument

from galaxy_account.domain import policy
from galaxy_account.domain.accounts import new_user_name
from galaxy_account.domain.aggregate import snapshot
from galaxy_account.domain.validation import canonical_tag, parse_display_name
from galaxy_account.repository.accounts import AccountRow, EntitlementRow


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("en", "en"), ("EN-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("de-CH-1901", "de-CH-1901"),
        ("es-419", "es-419"), ("sl-rozaj-biske", "sl-rozaj-biske"), ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),
        ("x-whatever", "x-whatever"), ("i-klingon", "i-klingon"), ("zh-min-nan", "zh-min-nan"),
        ("zh-yue-HK", "zh-yue-HK"), ("sr-Latn-RS", "sr-Latn-RS"), ("en-GB-OED", "en-GB-oed"),
    ],
)
def test_well_formed_tags_are_canonicalised(tag, canonical):
    assert canonical_tag(tag) == canonical


@pytest.mark.parametrize(
    "tag",
    ["", "e", "en_US", "en-", "-en", "en--US", "123", "de-1901-1901", "en-a-x", "en-a-bbb-a-ccc", "x",
     "en-x", "toolonglanguage", "en-US-", "ру", "en US", "a" * 70, "en-a", "en-Latn-Latn-US"],
)
def test_malformed_tags_are_refused(tag):
    assert canonical_tag(tag) is None


def test_display_name_rules():
    assert parse_display_name("  Nova Prime ") == "Nova Prime"
    assert parse_display_name("") is None and parse_display_name("   ") is None
    assert parse_display_name("Zoë O'Neil-2") == "Zoë O'Neil-2"
    assert parse_display_name("Пилот") == "Пилот"
    assert parse_display_name("x" * 32) == "x" * 32
    for bad in ("x" * 33, "a  b", "-nova", "nova!", "tab\there", "bell\x07", "<script>", "'quoted"):
        with pytest.raises(InvalidArgument):
            parse_display_name(bad)


def test_user_names_are_prefixed_base32_draws():
    names = {new_user_name() for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"player-[a-z2-7]{8}", name) for name in names)


def _account() -> AccountRow:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return AccountRow(uuid.uuid4(), "a@b.test", "a@b.test", "player-aaaaaaaa", None, "en", "UTC", None, at, at, None)


def _grant(tier: str, ends_at: datetime | None) -> EntitlementRow:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return EntitlementRow(1, uuid.uuid4(), tier, "admin_console", "admin", "root", "promo", at, ends_at, at)


def test_an_ended_paid_entitlement_reads_as_free():
    now = datetime(2026, 2, 1, tzinfo=UTC)
    running = snapshot(_grant("monthly", now + timedelta(days=1)), _account(), now)
    assert (running.plan_code, running.is_paid, running.max_registered_race_names) == ("monthly", True, 5)
    ended = snapshot(_grant("yearly", now - timedelta(seconds=1)), _account(), now)
    assert (ended.plan_code, ended.is_paid, ended.max_registered_race_names) == ("free", False, 1)
    assert ended.starts_at == now - timedelta(seconds=1) and ended.ends_at is None
    assert ended.reason_code == policy.EXPIRY_REASON
    assert snapshot(_grant("permanent", None), _account(), now).is_paid
