"""Shapes every service checks the same way: e-mail addresses, UUIDs, IANA time zones, language tags.

Plumbing only: each function answers "is this well-formed, and what is its
canonical form"; which error a service raises, and with which message, stays
in the service. Built on kept libraries rather than hand-written grammars:

- e-mail: `email-validator` (syntax only, no DNS). `.test` domains (RFC 2606,
  what the test suites and `make up` use) and single-label domains are
  accepted; special-use names such as `localhost` are not.
- language tags: `langcodes`' RFC 5646 parser, plus the well-formedness rules
  it leaves to the registry (no duplicate variant, no duplicate extension
  singleton, an alphabetic language subtag, hyphens only).
- time zones: the IANA database `zoneinfo` knows (the `tzdata` package).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

import email_validator

#: Longest language tag accepted (RFC 5646 4.4.1 asks implementations for at least 35).
MAX_LANGUAGE_TAG_LENGTH = 64
#: RFC 9110 12.4.2: a q-value has at most three decimals and is at most 1.
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")
_SUBTAGS = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
_ALPHA = re.compile(r"^[A-Za-z]+$")


# ---- e-mail ----


@dataclass(frozen=True)
class EmailAddress:
    #: As delivered to: trimmed, domain lower-cased (IDNs as punycode).
    address: str
    #: Fully lower-cased: the identity / rate-limit key.
    key: str


def parse_email(value: str) -> EmailAddress | None:
    """The normalised address, or None when `value` is not a syntactically valid e-mail address."""
    if not isinstance(value, str):
        return None
    try:
        checked = email_validator.validate_email(
            value.strip(),
            check_deliverability=False,
            test_environment=True,  # accept .test: syntax only, never a DNS lookup
            globally_deliverable=False,
            allow_smtputf8=True,
        )
    except email_validator.EmailNotValidError:
        return None
    address = f"{checked.local_part}@{checked.ascii_domain.lower()}"
    return EmailAddress(address=address, key=address.lower())


# ---- ids and zones ----


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID, or None when `value` is not one (callers choose the error)."""
    try:
        return uuid.UUID(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError):
        return None


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(value: str) -> bool:
    """An IANA time-zone name (`Europe/Berlin`, `UTC`); names are case-sensitive."""
    return value in _time_zones()


# ---- language tags ----


@lru_cache(maxsize=1)
def _tag_parser():
    """langcodes' RFC 5646 parser and its error, imported on the first tag a process checks.

    Importing `langcodes` loads its language-distance tables (about 7 MB resident) although only
    the parser is used here; processes that import this module for e-mail or UUID checks alone
    (geo, lobby, runtime) never pay for them.
    """
    from langcodes.tag_parser import LanguageTagError, parse_tag

    return parse_tag, LanguageTagError


def _canonical_case(subtag_kind: str, text: str) -> str:
    if subtag_kind != "grandfathered":
        return text  # langcodes' parser already cased it (script Title, region UPPER, rest lower)
    # RFC 5646 2.1.1 for the irregular tags: two letters after the first subtag upper, the rest lower.
    parts = text.lower().split("-")
    return "-".join([parts[0], *(p.upper() if len(p) == 2 else p for p in parts[1:])])


def canonical_language_tag(value: str) -> str | None:
    """`value` in canonical casing (`EN-us` → `en-US`), or None when it is not a well-formed BCP 47 tag.

    Only well-formedness is checked, not the IANA registry: `qq-QQ` passes.
    """
    if (
        not isinstance(value, str)
        or len(value) > MAX_LANGUAGE_TAG_LENGTH
        or not value.isascii()
        or not _SUBTAGS.match(value)  # langcodes would also read `_` as `-`
    ):
        return None
    parse_tag, tag_error = _tag_parser()
    try:
        parsed = parse_tag(value)
    except tag_error:
        return None
    kinds = [kind for kind, _ in parsed]
    if kinds[0] == "language" and not (parsed[0][1].startswith("x-") or _ALPHA.match(parsed[0][1])):
        return None  # `123`
    variants = [text.lower() for kind, text in parsed if kind == "variant"]
    singletons = [text[0].lower() for kind, text in parsed if kind == "extension"]
    if len(set(variants)) != len(variants) or len(set(singletons)) != len(singletons):
        return None  # RFC 5646 2.2.5, 2.2.6
    return "-".join(_canonical_case(kind, text) for kind, text in parsed)


def _loose_tag(value: str) -> str | None:
    """A tag as clients write it in locale fields (`de_CH`, ` DE `), canonicalised; None if unusable."""
    return canonical_language_tag(value.strip().replace("_", "-"))


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """(language range, q) pairs of an Accept-Language value, highest q first, ties in header order.

    A member with a malformed range or q-value is skipped, never an error.
    """
    ranges: list[tuple[str, float, int]] = []
    for position, member in enumerate(header.split(",")):
        parts = [part.strip() for part in member.split(";")]
        language = parts[0]
        if not language or (language != "*" and _loose_tag(language) is None):
            continue
        q = 1.0
        valid = True
        for param in parts[1:]:
            name, _, text = param.partition("=")
            if name.strip().lower() == "q":
                text = text.strip()
                if not _QVALUE.match(text):
                    valid = False
                    break
                q = float(text)
        if valid:
            ranges.append((language, q, position))
    ranges.sort(key=lambda item: (-item[1], item[2]))
    return [(language, q) for language, q, _ in ranges]


def lookup_locale(tag: str, supported: list[str]) -> str | None:
    """The supported locale `tag` selects: RFC 4647 lookup (`de-AT-1996` → `de-AT` → `de`),
    case-insensitive, then any supported locale of the same primary language; None if none."""
    wanted = _loose_tag(tag)
    if wanted is None:
        return None
    by_key = {locale.lower(): locale for locale in supported}
    subtags = wanted.lower().split("-")
    while subtags:
        found = by_key.get("-".join(subtags))
        if found is not None:
            return found
        subtags.pop()
        if subtags and len(subtags[-1]) == 1:  # never end on an extension singleton
            subtags.pop()
    primary = wanted.lower().split("-", 1)[0]
    for locale in supported:
        if locale.lower().split("-", 1)[0] == primary:
            return locale
    return None


def choose_locale(*, explicit: str | None, accept_language: str | None, supported: list[str]) -> str:
    """The locale to use among `supported` (its first entry is the fallback).

    `explicit` (a tag the client chose) wins when it selects a supported locale;
    else the best Accept-Language match (q-values, ties in header order, `q=0`
    refuses a language, `*` accepts any not refused); else the fallback.
    """
    if explicit:
        chosen = lookup_locale(explicit, supported)
        if chosen is not None:
            return chosen
    if accept_language:
        ranges = parse_accept_language(accept_language)
        refused = {m for language, q in ranges if q == 0 and (m := lookup_locale(language, supported))}
        for language, q in ranges:
            if q == 0:
                continue
            if language == "*":
                for locale in supported:
                    if locale not in refused:
                        return locale
                continue
            chosen = lookup_locale(language, supported)
            if chosen is not None and chosen not in refused:
                return chosen
    return supported[0]
