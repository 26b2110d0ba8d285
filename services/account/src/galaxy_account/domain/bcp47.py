"""A strict checker of the BCP 47 (RFC 5646) language-tag grammar, with canonical casing.

Only the grammar is checked (section 2.1), plus the two rules a parser can
check without the IANA registry (2.2.5 no duplicate variants, 2.2.6 no
duplicate extension singletons). Subtags are not looked up in the registry:
`qq-QQ` is well-formed and accepted. Grandfathered tags are accepted as listed.

Canonical casing (2.1.1): language and everything after a singleton lower
case, four-letter script subtags title case, two-letter region subtags upper
case, the rest lower case: `EN-us` → `en-US`, `zh-hant-tw` → `zh-Hant-TW`.
"""

from __future__ import annotations

import re

#: Longer tags are refused (RFC 5646 4.4.1 asks implementations for at least 35 characters).
MAX_LENGTH = 64

_IRREGULAR = (
    "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux",
    "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
)
_REGULAR = (
    "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan",
    "zh-xiang",
)
_GRANDFATHERED = {tag.lower(): tag for tag in _IRREGULAR + _REGULAR}

_ALPHA = re.compile(r"^[A-Za-z]+$")
_DIGIT = re.compile(r"^[0-9]+$")
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")


def _is_alpha(s: str, lo: int, hi: int) -> bool:
    return lo <= len(s) <= hi and bool(_ALPHA.match(s))


def _is_alnum(s: str, lo: int, hi: int) -> bool:
    return lo <= len(s) <= hi and bool(_ALNUM.match(s))


def _is_variant(s: str) -> bool:
    return _is_alnum(s, 5, 8) or (len(s) == 4 and s[0].isdigit() and _is_alnum(s, 4, 4))


def canonical_tag(value: str) -> str | None:
    """The tag in canonical casing, or None when `value` is not a well-formed BCP 47 tag."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH or not value.isascii():
        return None
    grandfathered = _GRANDFATHERED.get(value.lower())
    if grandfathered is not None:
        return grandfathered
    parts = value.split("-")
    if any(not part or not _ALNUM.match(part) for part in parts):
        return None
    if parts[0].lower() == "x":
        return _private_use(parts, 0)
    out: list[str] = []
    i = 0
    # language
    first = parts[0]
    if _is_alpha(first, 2, 3):
        out.append(first.lower())
        i = 1
        extlangs = 0
        while i < len(parts) and extlangs < 3 and _is_alpha(parts[i], 3, 3):
            out.append(parts[i].lower())
            i += 1
            extlangs += 1
    elif _is_alpha(first, 4, 8):
        out.append(first.lower())
        i = 1
    else:
        return None
    # script
    if i < len(parts) and _is_alpha(parts[i], 4, 4):
        out.append(parts[i].title())
        i += 1
    # region
    if i < len(parts) and (_is_alpha(parts[i], 2, 2) or (len(parts[i]) == 3 and _DIGIT.match(parts[i]))):
        out.append(parts[i].upper())
        i += 1
    # variants
    seen_variants: set[str] = set()
    while i < len(parts) and _is_variant(parts[i]):
        variant = parts[i].lower()
        if variant in seen_variants:
            return None
        seen_variants.add(variant)
        out.append(variant)
        i += 1
    # extensions
    seen_singletons: set[str] = set()
    while i < len(parts) and len(parts[i]) == 1 and parts[i].lower() != "x":
        singleton = parts[i].lower()
        if singleton in seen_singletons:
            return None
        seen_singletons.add(singleton)
        out.append(singleton)
        i += 1
        count = 0
        while i < len(parts) and _is_alnum(parts[i], 2, 8):
            out.append(parts[i].lower())
            i += 1
            count += 1
        if count == 0:
            return None
    # private use
    if i < len(parts):
        if parts[i].lower() != "x":
            return None
        rest = _private_use(parts, i)
        if rest is None:
            return None
        out.append(rest)
    return "-".join(out)


def _private_use(parts: list[str], start: int) -> str | None:
    tail = parts[start + 1:]
    if not tail or not all(_is_alnum(p, 1, 8) for p in tail):
        return None
    return "-".join(["x", *(p.lower() for p in tail)])
