"""The public-game scheduler with `now` as an input: quorum, the start rules, cancellation, several replicas."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy_kit.proto import timestamp
from galaxy_lobby.domain.scheduler import tick
from lobby_helpers import ADMIN, admin_body, apply, error_of, game_row, rows


async def public_game(lobby, **overrides) -> pb.LobbyGameDetail:
    return await lobby.stub.AdminGamesCreate(pb.AdminGamesCreateRequest(admin_username=ADMIN,
                                                                        body=admin_body(**overrides)))


async def moves(lobby, game_id: str) -> list[tuple[str, str, str]]:
    found = await rows(lobby, "SELECT from_status, to_status, reason FROM lobby.game_transitions "
                              "WHERE game_id = :g AND from_status IS NOT NULL ORDER BY transition_id",
                       g=uuid.UUID(game_id))
    return [(r["from_status"], r["to_status"], r["reason"]) for r in found]


async def test_applications_to_a_public_game_take_seats_while_they_last(lobby_with_runtime):
    lobby = lobby_with_runtime
    game = await public_game(lobby, min_players=1, max_players=2)
    first = await apply(lobby, await lobby.user(), game.game_id, "Vega")
    second = await apply(lobby, await lobby.user(), game.game_id, "Altair")
    assert (first.status, second.status) == ("approved", "approved")
    full = await error_of(apply(lobby, await lobby.user(), game.game_id, "Deneb"))
    assert "the game is full (2 of 2 seats taken)" in full.details()


async def test_a_full_public_game_starts_on_the_next_tick(deps, lobby_with_runtime):
    lobby = lobby_with_runtime
    game = await public_game(lobby, min_players=2, max_players=2)
    now = datetime.now(UTC)
    assert (await tick(deps, now=now)).moved == []
    await apply(lobby, await lobby.user(), game.game_id, "Vega")
    assert (await tick(deps, now=now)).moved == []  # one player of two: waits
    await apply(lobby, await lobby.user(), game.game_id, "Altair")
    result = await tick(deps, now=now)
    assert [(m[1], m[2]) for m in result.moved] == [("ready_to_start", "quorum_reached"), ("starting", "full")]
    assert [c.status for c in result.started] == ["starting"] and lobby.runtime.calls == [("start", game.game_id)]
    assert await moves(lobby, game.game_id) == [("enrollment_open", "ready_to_start", "quorum_reached"),
                                                ("ready_to_start", "starting", "full")]


async def test_start_gap_hours_and_players_and_the_enrollment_end(deps, lobby_with_runtime):
    lobby = lobby_with_runtime
    now = datetime.now(UTC)
    by_hours = await public_game(lobby, min_players=1, max_players=10, start_gap_hours=2)
    by_players = await public_game(lobby, min_players=1, max_players=10, start_gap_players=2)
    by_end = await public_game(lobby, min_players=1, max_players=10, enrollment_ends_at=timestamp(now + timedelta(days=1)))
    nobody = await public_game(lobby, min_players=2, max_players=10, enrollment_ends_at=timestamp(now + timedelta(days=1)))
    for game in (by_hours, by_players, by_end):
        await apply(lobby, await lobby.user(), game.game_id, f"First_{game.game_id[:4]}")
    await tick(deps, now=now)
    assert {(await game_row(lobby, g.game_id))["status"] for g in (by_hours, by_players, by_end)} == {"ready_to_start"}
    await tick(deps, now=now + timedelta(hours=1, minutes=59))
    assert (await game_row(lobby, by_hours.game_id))["status"] == "ready_to_start"
    await tick(deps, now=now + timedelta(hours=2, minutes=1))
    assert (await moves(lobby, by_hours.game_id))[-1] == ("ready_to_start", "starting", "start_gap_hours_elapsed")
    for i in range(2):
        await apply(lobby, await lobby.user(), by_players.game_id, f"Later_{i}")
    await tick(deps, now=now + timedelta(hours=3))
    assert (await moves(lobby, by_players.game_id))[-1] == ("ready_to_start", "starting", "start_gap_players_reached")
    assert (await game_row(lobby, by_end.game_id))["status"] == "ready_to_start"
    assert (await game_row(lobby, nobody.game_id))["status"] == "enrollment_open"
    await tick(deps, now=now + timedelta(days=1, seconds=1))
    assert (await moves(lobby, by_end.game_id))[-1] == ("ready_to_start", "starting", "enrollment_ended")
    assert await moves(lobby, nobody.game_id) == [("enrollment_open", "cancelled", "enrollment_ended_without_quorum")]


async def test_replicas_ticking_at_once_move_each_game_once(deps, lobby_with_runtime):
    lobby = lobby_with_runtime
    games = [await public_game(lobby, min_players=1, max_players=1) for _ in range(6)]
    for game in games:
        await apply(lobby, await lobby.user(), game.game_id, f"Solo_{game.game_id[:6]}")
    now = datetime.now(UTC)
    await asyncio.gather(*(tick(deps, now=now) for _ in range(4)))
    for game in games:
        assert [m[1] for m in await moves(lobby, game.game_id)] == ["ready_to_start", "starting"]
    assert sorted(lobby.runtime.calls) == sorted(("start", g.game_id) for g in games)
