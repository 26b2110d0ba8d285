"""How a service tells a caller that a reply may be reused, over gRPC metadata.

A service that publishes an event whenever a read's answer changes may let its
callers keep that answer: it sets the trailing metadata `galaxy-cacheable-for-ms`
on the reply, the number of milliseconds (from when it read) the answer stays
true unless one of its change events says otherwise. No such metadata: do not
keep it. What is cacheable, and which events undo it, is the service's to say
(docs/architecture.md, "The edge"); this module only spells the header.
"""

from __future__ import annotations

from collections.abc import Iterable

CACHEABLE_FOR_MS = "galaxy-cacheable-for-ms"


def cacheable_metadata(seconds: float) -> tuple[tuple[str, str], ...]:
    """The metadata saying the reply may be kept for `seconds` (nothing for 0 or less)."""
    millis = int(seconds * 1000)
    return ((CACHEABLE_FOR_MS, str(millis)),) if millis > 0 else ()


def cacheable_for(metadata: Iterable[tuple[str, str | bytes]] | None) -> float | None:
    """Seconds a reply may be kept, from its metadata; None when it may not be kept."""
    for key, value in metadata or ():
        if key == CACHEABLE_FOR_MS:
            try:
                millis = int(value)
            except ValueError:
                return None
            return millis / 1000 if millis > 0 else None
    return None
