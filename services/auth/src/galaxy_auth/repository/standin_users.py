"""STAND-IN, to be replaced by the account issue: auth's own e-mail → user id record.

Used only while account answers EnsureAccountByEmail with UNIMPLEMENTED
(docs/auth.md, "The stand-in user record").
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from galaxy_auth.repository.tables import standin_users


async def ensure(session: AsyncSession, email_key: str) -> tuple[uuid.UUID, bool]:
    """The user id for `email_key`, created when missing; (user_id, created)."""
    created = (
        await session.execute(
            insert(standin_users)
            .values(email_key=email_key, user_id=uuid.uuid4())
            .on_conflict_do_nothing(index_elements=[standin_users.c.email_key])
            .returning(standin_users.c.user_id)
        )
    ).scalar_one_or_none()
    if created is not None:
        return created, True
    existing = (
        await session.execute(sa.select(standin_users.c.user_id).where(standin_users.c.email_key == email_key))
    ).scalar_one()
    return existing, False
