"""Engine versions: the images runtime may start, by semver label (docs/runtime.md, "Engine versions")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from galaxy_kit.db import transaction
from galaxy_kit.errors import AlreadyExists, InvalidArgument, NotFound
from sqlalchemy.engine import Row

from galaxy_runtime.domain.deps import Deps
from galaxy_runtime.repository import versions as repo

#: semver 2.0.0 without build metadata: MAJOR.MINOR.PATCH[-PRERELEASE].
_SEMVER = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
MAX_IMAGE_REF = 500


@dataclass(frozen=True, order=True)
class Semver:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, label: str, field: str = "version") -> Semver:
        match = _SEMVER.match(label)
        if match is None:
            raise InvalidArgument(f"{field}: {label!r} is not a semantic version (MAJOR.MINOR.PATCH)")
        return cls(int(match[1]), int(match[2]), int(match[3]))


def _image_ref(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_IMAGE_REF or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidArgument(f"image_ref: must be 1-{MAX_IMAGE_REF} printable characters without spaces")
    return value


async def list_all(deps: Deps) -> list[Row]:
    return await repo.all_versions(deps.reads)


async def register(deps: Deps, *, version: str, image_ref: str, enabled: bool, now: datetime) -> Row:
    semver = Semver.parse(version)
    image = _image_ref(image_ref)
    async with transaction(deps.sessions) as session:
        row = await repo.insert_new(session, version=version, major=semver.major, minor=semver.minor,
                                    patch=semver.patch, image_ref=image, enabled=enabled,
                                    created_at=now, updated_at=now)
    if row is None:
        raise AlreadyExists(f"engine version {version} is already registered")
    return row


async def update(deps: Deps, *, version: str, image_ref: str | None, enabled: bool | None, now: datetime) -> Row:
    changes: dict[str, object] = {}
    if image_ref is not None:
        changes["image_ref"] = _image_ref(image_ref)
    if enabled is not None:
        changes["enabled"] = enabled
    async with transaction(deps.sessions) as session:
        current = await repo.get(session, version, for_update=True)
        if current is None:
            raise NotFound(f"engine version {version} is not registered")
        if not changes or all(getattr(current, k) == v for k, v in changes.items()):
            return current
        return await repo.update(session, version, **changes, updated_at=now)


async def disable(deps: Deps, *, version: str, now: datetime) -> Row:
    return await update(deps, version=version, image_ref=None, enabled=False, now=now)


async def enabled_version(session, version: str) -> Row:
    """The enabled row of `version`, for a start or a patch; a client-safe refusal otherwise."""
    row = await repo.get(session, version)
    if row is None:
        raise InvalidArgument(f"engine version {version} is not registered")
    if not row.enabled:
        raise InvalidArgument(f"engine version {version} is disabled")
    return row


async def register_missing(deps: Deps, spec: str, *, now: datetime) -> None:
    """Register each `VERSION=IMAGE` of `spec` that is not registered yet (start-up bootstrap)."""
    for item in filter(None, (part.strip() for part in spec.split(","))):
        version, _, image = item.partition("=")
        try:
            await register(deps, version=version.strip(), image_ref=image, enabled=True, now=now)
        except AlreadyExists:
            pass
