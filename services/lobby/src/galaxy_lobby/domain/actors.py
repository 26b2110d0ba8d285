"""Who does something in lobby: a user, an administrator, or lobby itself."""

from __future__ import annotations

from dataclasses import dataclass

from galaxy_lobby.domain.vocabulary import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str

    @classmethod
    def user(cls, user_id: object) -> Actor:
        return cls(ActorKind.USER, str(user_id))

    @classmethod
    def admin(cls, username: str) -> Actor:
        return cls(ActorKind.ADMIN, username or "admin")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(ActorKind.SYSTEM, what)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"
