"""Which locale a login code is mailed in: the body's `locale`, else Accept-Language, else the fallback.

Only locales the mail service ships the template in are ever chosen
(settings: GALAXY_AUTH_MAIL_LOCALES; its first entry is the fallback, `en`).
A tag matches a supported locale exactly (case-insensitive) or by its primary
language subtag (`de-AT` → `de`).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")  # RFC 9110 §12.4.2


def _normalise(tag: str) -> str | None:
    tag = tag.strip().replace("_", "-")
    return tag.lower() if _TAG.match(tag) else None


def match(tag: str, supported: list[str]) -> str | None:
    """The supported locale `tag` selects, if any."""
    wanted = _normalise(tag)
    if wanted is None:
        return None
    for locale in supported:
        if locale.lower() == wanted:
            return locale
    primary = wanted.split("-", 1)[0]
    for locale in supported:
        if locale.lower().split("-", 1)[0] == primary:
            return locale
    return None


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """(language range, q) pairs, highest q first, ties in header order; malformed members are skipped."""
    ranges: list[tuple[str, float, int]] = []
    for position, member in enumerate(header.split(",")):
        parts = [part.strip() for part in member.split(";")]
        language = parts[0]
        if not language or (language != "*" and _normalise(language) is None):
            continue
        q = 1.0
        valid = True
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if not _QVALUE.match(value):
                    valid = False
                    break
                q = float(value)
        if valid:
            ranges.append((language, q, position))
    ranges.sort(key=lambda item: (-item[1], item[2]))
    return [(language, q) for language, q, _ in ranges]


def choose_locale(*, body_locale: str | None, accept_language: str | None, supported: list[str]) -> str:
    if body_locale:
        chosen = match(body_locale, supported)
        if chosen is not None:
            return chosen
    fallback = supported[0]
    if accept_language:
        ranges = parse_accept_language(accept_language)
        refused = {m for language, q in ranges if q == 0 and (m := match(language, supported))}
        for language, q in ranges:
            if q == 0:
                continue
            if language == "*":
                for locale in supported:
                    if locale not in refused:
                        return locale
                continue
            chosen = match(language, supported)
            if chosen is not None and chosen not in refused:
                return chosen
    return fallback
