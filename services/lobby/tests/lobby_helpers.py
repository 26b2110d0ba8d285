"""Helpers of lobby's service tests: request bodies, error capture, direct reads and arrangements in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy_kit.db import create_engine
from galaxy_kit.proto import timestamp

ADMIN = "root-admin"


def later(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**(delta or {"days": 3}))


def create_body(**overrides) -> pb.LobbyGameCreateRequest:
    values = {"game_name": "Orion Spur", "visibility": "private", "min_players": 2, "max_players": 4, "start_gap_hours": 0,
                  "start_gap_players": 0, "enrollment_ends_at": timestamp(later()), "turn_schedule": "0 */6 * * *",
                  "target_engine_version": "1.4.0"}
    values.update(overrides)
    return pb.LobbyGameCreateRequest(**values)


def admin_body(**overrides) -> pb.AdminGameCreateRequest:
    values = {"game_name": "Open Nebula", "min_players": 2, "max_players": 3, "start_gap_hours": 0, "start_gap_players": 0,
                  "enrollment_ends_at": timestamp(later()), "turn_schedule": "0 12 * * *", "target_engine_version": "2.0.1"}
    values.update(overrides)
    return pb.AdminGameCreateRequest(**values)


async def create_private(lobby, owner: str, **overrides) -> pb.LobbyGameDetail:
    return await lobby.stub.UserLobbyGamesCreate(pb.UserLobbyGamesCreateRequest(user_id=owner,
                                                                                body=create_body(**overrides)))


async def error_of(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value


async def rows(lobby, sql: str, **params) -> list[dict]:
    engine = create_engine(lobby.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(sa.text(sql), params)
            return [dict(r) for r in result.mappings()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def game_row(lobby, game_id: str) -> dict:
    [row] = await rows(lobby, "SELECT * FROM lobby.games WHERE game_id = :g", g=uuid.UUID(game_id))
    return row


async def set_status(lobby, game_id: str, status: str) -> None:
    """Arrange a game in any status directly (the machine is tested per transition, not by replay)."""
    await rows(lobby, "UPDATE lobby.games SET status = :s WHERE game_id = :g", s=status, g=uuid.UUID(game_id))


async def add_member(lobby, game_id: str, user_id: str, race_name: str) -> None:
    await rows(lobby, """
        INSERT INTO lobby.memberships (membership_id, game_id, user_id, race_name, canonical_key, status, joined_at)
        VALUES (:m, :g, :u, :r, lower(:r), 'active', now())""",
               m=uuid.uuid4(), g=uuid.UUID(game_id), u=uuid.UUID(user_id), r=race_name)


async def outbox_kinds(lobby) -> list[tuple[str, str]]:
    """(recipient, kind) of every notification intent in lobby's outbox, in order."""
    from galaxy.events.v1.notify_pb2 import NotificationIntent
    from galaxy_kit.events import unpack, unpack_payload

    found = []
    for row in await rows(lobby, "SELECT payload FROM lobby.outbox ORDER BY id"):
        intent = unpack_payload(unpack(bytes(row["payload"])), NotificationIntent)
        found.append((intent.user_id, intent.kind))
    return found


async def open_game(lobby, owner: str, **overrides) -> pb.LobbyGameDetail:
    game = await create_private(lobby, owner, **overrides)
    await lobby.stub.UserLobbyGamesOpenEnrollment(pb.UserLobbyGamesOpenEnrollmentRequest(user_id=owner,
                                                                                         game_id=game.game_id))
    return game


def apply(lobby, user: str, game_id: str, race_name: str):
    return lobby.stub.UserLobbyApplicationsSubmit(pb.UserLobbyApplicationsSubmitRequest(
        user_id=user, game_id=game_id, body=pb.LobbyApplicationSubmitRequest(race_name=race_name)))


def approve(lobby, owner: str, game_id: str, application_id: str):
    return lobby.stub.UserLobbyApplicationsApprove(pb.UserLobbyApplicationsApproveRequest(
        user_id=owner, game_id=game_id, application_id=application_id))


def invite(lobby, owner: str, game_id: str, race_name: str, invited: str | None = None, **extra):
    body = pb.LobbyInviteIssueRequest(race_name=race_name, **extra)
    if invited is not None:
        body.invited_user_id = invited
    return lobby.stub.UserLobbyInvitesIssue(pb.UserLobbyInvitesIssueRequest(user_id=owner, game_id=game_id,
                                                                            body=body))


def redeem(lobby, user: str, game_id: str, key: str):
    return lobby.stub.UserLobbyInvitesRedeem(pb.UserLobbyInvitesRedeemRequest(user_id=user, game_id=game_id,
                                                                              invite_id=key))
