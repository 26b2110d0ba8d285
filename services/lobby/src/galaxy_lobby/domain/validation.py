"""Input rules of lobby (docs/lobby.md, "Validation"); every failure is a 400 naming the field."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from functools import lru_cache

import semver
from croniter import croniter
from galaxy_kit.errors import InvalidArgument

GAME_NAME_MAX = 64
DESCRIPTION_MAX = 2000
PLAYERS_MAX = 100
START_GAP_HOURS_MAX = 24 * 30
RACE_NAME_MAX = 20
#: The engine's race-name alphabet (engine/src/galaxy_engine/game/validate.py, NAME_PATTERN).
RACE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,20}")
REASON_MAX = 500
#: Characters that separate words in a race name (only `_` passes the name rule; the others are
#: dropped too, so the key stays the same if the alphabet ever widens).
RACE_NAME_SEPARATORS = frozenset(" -_.'")


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{field} must be a UUID") from None


def game_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= GAME_NAME_MAX:
        raise InvalidArgument(f"game_name must be 1-{GAME_NAME_MAX} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidArgument("game_name must not contain control characters")
    return name


def description(value: str) -> str | None:
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidArgument(f"description must be at most {DESCRIPTION_MAX} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\n\t" for ch in text):
        raise InvalidArgument("description must not contain control characters")
    return text or None


def players(min_players: int, max_players: int) -> None:
    if not 1 <= min_players <= PLAYERS_MAX:
        raise InvalidArgument(f"min_players must be 1-{PLAYERS_MAX}")
    if not 1 <= max_players <= PLAYERS_MAX:
        raise InvalidArgument(f"max_players must be 1-{PLAYERS_MAX}")
    if min_players > max_players:
        raise InvalidArgument("min_players must not exceed max_players")


def start_gap(hours: int, players_: int) -> None:
    if not 0 <= hours <= START_GAP_HOURS_MAX:
        raise InvalidArgument(f"start_gap_hours must be 0-{START_GAP_HOURS_MAX}")
    if not 0 <= players_ <= PLAYERS_MAX:
        raise InvalidArgument(f"start_gap_players must be 0-{PLAYERS_MAX}")


def turn_schedule(value: str) -> str:
    """A five-field cron expression (minute hour day-of-month month day-of-week)."""
    expression = " ".join(value.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise InvalidArgument("turn_schedule must be a five-field cron expression, for example '0 */6 * * *'")
    return expression


def engine_version(value: str) -> str:
    try:
        semver.Version.parse(value.strip())
    except (ValueError, TypeError):
        raise InvalidArgument("target_engine_version must be a semantic version, for example 1.4.0") from None
    return value.strip()


def future(value: datetime | None, field: str, now: datetime) -> datetime:
    if value is None:
        raise InvalidArgument(f"{field} is required")
    if value <= now:
        raise InvalidArgument(f"{field} must be in the future")
    return value


def reason(value: str) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(text) <= REASON_MAX:
        raise InvalidArgument(f"reason must be 1-{REASON_MAX} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidArgument("reason must not contain control characters")
    return text


# ---- race names ----


def race_name(value: str) -> str:
    """NFKC, trimmed, 1-20 ASCII letters, digits and underscores, at least one letter or digit.

    Exactly what the game engine accepts as a race (engine/src/galaxy_engine/game/validate.py):
    the name a player picks is the name the engine plays, so no name lobby hands out can make a
    start fail. NFKC first, so full-width forms (`ｓｔａｒ`) become their ASCII letters.
    """
    name = unicodedata.normalize("NFKC", value).strip()
    if not RACE_NAME_PATTERN.fullmatch(name) or name.strip("_") == "":
        raise InvalidArgument(f"race_name must be 1-{RACE_NAME_MAX} letters (A-Z), digits or underscores, "
                              "with at least one letter or digit")
    return name


@lru_cache(maxsize=4096)
def _latin_lookalike(ch: str) -> str:
    """The Latin character `ch` is confusable with (Unicode confusables data), or `ch` itself."""
    if ch.isascii():
        return ch
    # Imported here: its tables cost about 6 MB resident, and today's names are ASCII (never reach here).
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=["latin"])
    if found:
        for homoglyph in found[0]["homoglyphs"]:
            if len(homoglyph["c"]) == 1 and homoglyph["c"].isascii() and homoglyph["c"].isalnum():
                return homoglyph["c"]
    return ch


#: Digits and letters that look alike in most fonts, folded to one spelling in the key.
_ASCII_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s"})


def canonical_key(name: str) -> str:
    """The key under which a race name is unique platform-wide (docs/lobby.md, "Race names").

    NFKC; separators dropped; each character confusable with a Latin letter or digit replaced by
    it; case folded; then 0/o, 1/l/i and 5/s folded to one spelling.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if ch not in RACE_NAME_SEPARATORS and not ch.isspace())
    text = "".join(_latin_lookalike(ch) for ch in text)
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_ASCII_LOOKALIKES)
