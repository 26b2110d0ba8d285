"""Queries on auth.device_sessions and auth.session_revocations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from galaxy_kit.db import Query, Reads
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import device_sessions, session_revocations


@dataclass(frozen=True)
class DeviceSessionRow:
    device_session_id: uuid.UUID
    user_id: uuid.UUID
    status: str
    client_public_key: str
    time_zone: str
    challenge_id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


def _row(row) -> DeviceSessionRow:
    return DeviceSessionRow(**{k: row[k] for k in DeviceSessionRow.__dataclass_fields__})


async def insert(
    session: AsyncSession,
    *,
    device_session_id: uuid.UUID,
    user_id: uuid.UUID,
    client_public_key: str,
    time_zone: str,
    challenge_id: uuid.UUID,
) -> DeviceSessionRow:
    row = (
        await session.execute(
            sa.insert(device_sessions)
            .values(
                device_session_id=device_session_id,
                user_id=user_id,
                status="active",
                client_public_key=client_public_key,
                time_zone=time_zone,
                challenge_id=challenge_id,
            )
            .returning(*device_sessions.c)
        )
    ).mappings().one()
    return _row(row)


async def get(
    session: AsyncSession, device_session_id: uuid.UUID, *, for_update: bool = False
) -> DeviceSessionRow | None:
    query = sa.select(device_sessions).where(device_sessions.c.device_session_id == device_session_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else _row(row)


_BY_ID = Query.compile(
    sa.select(*(device_sessions.c[name] for name in DeviceSessionRow.__dataclass_fields__)).where(
        device_sessions.c.device_session_id == sa.bindparam("device_session_id")
    )
)


async def read(reads: Reads, device_session_id: uuid.UUID) -> DeviceSessionRow | None:
    """The session as stored, in one statement outside any transaction (the gateway's hot lookup)."""
    record = await reads.fetchrow(_BY_ID, device_session_id=device_session_id)
    return None if record is None else DeviceSessionRow(*record)


async def list_active(session: AsyncSession, user_id: uuid.UUID) -> list[DeviceSessionRow]:
    rows = (
        await session.execute(
            sa.select(device_sessions)
            .where(device_sessions.c.user_id == user_id)
            .where(device_sessions.c.status == "active")
            .order_by(device_sessions.c.created_at.desc(), device_sessions.c.device_session_id)
        )
    ).mappings().all()
    return [_row(row) for row in rows]


async def revoke(session: AsyncSession, device_session_ids: list[uuid.UUID]) -> list[DeviceSessionRow]:
    """Mark the still-active ones among `device_session_ids` revoked; the rows that changed."""
    if not device_session_ids:
        return []
    rows = (
        await session.execute(
            sa.update(device_sessions)
            .where(device_sessions.c.device_session_id.in_(device_session_ids))
            .where(device_sessions.c.status == "active")
            .values(status="revoked", revoked_at=sa.func.now())
            .returning(*device_sessions.c)
        )
    ).mappings().all()
    return [_row(row) for row in rows]


async def active_ids_for_update(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.execute(
                sa.select(device_sessions.c.device_session_id)
                .where(device_sessions.c.user_id == user_id)
                .where(device_sessions.c.status == "active")
                .order_by(device_sessions.c.device_session_id)
                .with_for_update()
            )
        ).scalars()
    )


async def record_revocations(
    session: AsyncSession,
    revoked: list[DeviceSessionRow],
    *,
    actor_kind: str,
    actor_id: str | None,
    reason: str,
) -> None:
    if not revoked:
        return
    await session.execute(
        sa.insert(session_revocations),
        [
            {
                "revocation_id": uuid.uuid4(),
                "device_session_id": row.device_session_id,
                "user_id": row.user_id,
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "reason": reason,
                "revoked_at": row.revoked_at,
            }
            for row in revoked
        ],
    )


async def touch_last_seen(
    session: AsyncSession, device_session_id: uuid.UUID, *, resolution: timedelta
) -> DeviceSessionRow | None:
    """Set last_seen_at to now when it is older than `resolution`; the updated row, or None if unchanged."""
    row = (
        await session.execute(
            sa.update(device_sessions)
            .where(device_sessions.c.device_session_id == device_session_id)
            .where(device_sessions.c.status == "active")
            .where(
                sa.or_(
                    device_sessions.c.last_seen_at.is_(None),
                    device_sessions.c.last_seen_at < sa.func.now() - resolution,
                )
            )
            .values(last_seen_at=sa.func.now())
            .returning(*device_sessions.c)
        )
    ).mappings().first()
    return None if row is None else _row(row)
