"""Client address → country, offline, from the RIR data embedded in the `iptocc` wheel.

The comparison that chose iptocc (data freshness, licence, speed, memory) is in docs/geo.md.
The lookup is a binary search in data compiled into the extension: no file, no download, no
start-up cost, and well under a microsecond per address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from iptocc import country_code

#: What a country code must look like to be counted (ISO 3166-1 alpha-2 shape).
_ALPHA2 = re.compile(r"[A-Z]{2}")
#: Longest address text worth parsing (an IPv6 address with a zone and port is well below it).
MAX_ADDRESS_LENGTH = 64


def parse_address(text: str) -> str | None:
    """The canonical text of an IPv4/IPv6 address, or None when `text` is not one.

    Accepts what a proxy may forward: surrounding spaces, `[v6]` or `[v6]:port`, `v4:port`.
    An IPv4-mapped IPv6 address counts as its IPv4 address.
    """
    text = text.strip()
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        return None
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def countries(addresses: Sequence[str]) -> list[str | None]:
    """The registered country of each canonical address; None where no country is registered
    (private, reserved, unallocated space)."""
    if not addresses:
        return []
    found = country_code(list(addresses))
    return [code if code is not None and _ALPHA2.fullmatch(code) else None for code in found]
