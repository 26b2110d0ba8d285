"""Lobby's consumers over the real broker: runtime status drives the machine; a deleted account lets go of
everything, once per event. Pause and resume with a runtime that agrees."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy.events.v1.runtime_pb2 import RuntimeStatusEvent
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy_kit.events import new_envelope, pack
from galaxy_kit.proto import timestamp
from lobby_helpers import (
    ADMIN,
    add_member,
    apply,
    approve,
    create_private,
    game_row,
    invite,
    open_game,
    outbox_kinds,
    rows,
    set_status,
)

WAIT_SECONDS = 60.0


async def publish(lobby, topic: str, key: str, envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=lobby.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, pack(envelope), key=key.encode())
    finally:
        await producer.stop()


async def eventually(check, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.1)


def status_event(game_id: str, status: str, *, turn: int = 0, health: str = "healthy", at: datetime | None = None,
                 message: str = ""):
    return new_envelope(RuntimeStatusEvent(game_id=game_id, status=status, engine_health=health, current_turn=turn,
                                           occurred_at=timestamp(at or datetime.now(UTC)), message=message), "runtime")


async def test_runtime_status_events_drive_the_game(lobby_with_consumers):
    lobby = lobby_with_consumers
    owner, ann = await lobby.user("owner"), await lobby.user("ann")
    game = await open_game(lobby, owner)
    for user, name in ((owner, "Vega"), (ann, "Altair")):
        application = await apply(lobby, user, game.game_id, name)
        await approve(lobby, owner, game.game_id, application.application_id)
    await lobby.stub.UserLobbyGamesReadyToStart(pb.UserLobbyGamesReadyToStartRequest(user_id=owner,
                                                                                     game_id=game.game_id))
    started = await lobby.stub.UserLobbyGamesStart(pb.UserLobbyGamesStartRequest(user_id=owner, game_id=game.game_id))
    assert (started.status, started.runtime_status) == ("starting", "start_requested")
    assert lobby.runtime.calls == [("start", game.game_id)]
    await publish(lobby, "galaxy.runtime.status.v1", game.game_id, status_event(game.game_id, "running", turn=0))

    async def running() -> bool:
        return (await game_row(lobby, game.game_id))["status"] == "running"

    await eventually(running, "the game did not start running")
    row = await game_row(lobby, game.game_id)
    assert (row["runtime_status"], row["engine_health"]) == ("running", "healthy") and row["started_at"] is not None
    before = datetime.now(UTC)
    await publish(lobby, "galaxy.runtime.status.v1", game.game_id,
                  status_event(game.game_id, "running", turn=7, health="degraded"))

    async def turn_seven() -> bool:
        return (await game_row(lobby, game.game_id))["current_turn"] == 7

    await eventually(turn_seven, "current_turn did not follow runtime")
    # An event older than the last one applied changes nothing.
    await publish(lobby, "galaxy.runtime.status.v1", game.game_id,
                  status_event(game.game_id, "finished", turn=3, at=before - timedelta(minutes=5)))
    await publish(lobby, "galaxy.runtime.status.v1", game.game_id,
                  status_event(game.game_id, "finished", turn=9, message="engine_reported_game_over"))

    async def finished() -> bool:
        return (await game_row(lobby, game.game_id))["status"] == "finished"

    await eventually(finished, "the game did not finish")
    row = await game_row(lobby, game.game_id)
    assert (row["current_turn"], row["engine_health"]) == (9, "healthy") and row["finished_at"] is not None
    history = await rows(lobby, "SELECT from_status, to_status, actor_id, reason FROM lobby.game_transitions "
                                "WHERE game_id = :g AND from_status IS NOT NULL ORDER BY transition_id",
                         g=uuid.UUID(game.game_id))
    assert [(h["from_status"], h["to_status"], h["actor_id"]) for h in history] == [
        ("draft", "enrollment_open", owner), ("enrollment_open", "ready_to_start", owner),
        ("ready_to_start", "starting", owner), ("starting", "running", "runtime"), ("running", "finished", "runtime")]
    assert history[-1]["reason"] == "engine_reported_game_over"
    names = await rows(lobby, "SELECT name, status, source_game_id::text AS g FROM lobby.race_names ORDER BY name")
    assert names == [{"name": "Altair", "status": "pending_registration", "g": game.game_id},
                     {"name": "Vega", "status": "pending_registration", "g": game.game_id}]
    told = [(u, k) for u, k in await outbox_kinds(lobby) if k.startswith("lobby.game.")]
    assert told == [(owner, "lobby.game.started"), (ann, "lobby.game.started"),
                    (owner, "lobby.game.finished"), (ann, "lobby.game.finished")]


async def test_a_deleted_account_lets_go_of_everything_once(lobby_with_consumers):
    lobby = lobby_with_consumers
    leaving, owner, other = await lobby.user("leaving"), await lobby.user("owner"), await lobby.user("other")
    draft = await create_private(lobby, leaving)
    running = await create_private(lobby, leaving)
    await set_status(lobby, running.game_id, "running")
    joined = await open_game(lobby, owner)
    application = await apply(lobby, leaving, joined.game_id, "Leaving_Race")
    await approve(lobby, owner, joined.game_id, application.application_id)
    pending_elsewhere = await open_game(lobby, other)
    await apply(lobby, leaving, pending_elsewhere.game_id, "Second_Race")
    issued = await invite(lobby, leaving, draft.game_id, "For_Other", invited=other)
    received = await invite(lobby, other, pending_elsewhere.game_id, "For_Leaving", invited=leaving)
    await rows(lobby, "INSERT INTO lobby.race_names (canonical_key, name, owner_user_id, status, registered_at) "
                      "VALUES ('oldglory', 'Old Glory', :u, 'registered', now())", u=uuid.UUID(leaving))

    envelope = new_envelope(AccountLifecycleEvent(
        user_id=leaving, kind="soft_deleted", actor_type="user", actor_id=leaving,
        reason_code="user_requested_deletion", occurred_at=timestamp(datetime.now(UTC))), "account")
    await publish(lobby, "galaxy.account.lifecycle.v1", leaving, envelope)

    async def applied() -> bool:
        return (await game_row(lobby, draft.game_id))["status"] == "cancelled"

    await eventually(applied, "the deleted account's draft game was not cancelled")
    assert (await game_row(lobby, running.game_id))["status"] == "running"  # running games play on
    seats = await rows(lobby, "SELECT status, reason FROM lobby.memberships WHERE user_id = :u", u=uuid.UUID(leaving))
    assert seats == [{"status": "removed", "reason": "account_soft_deleted"}]
    apps = await rows(lobby, "SELECT status FROM lobby.applications WHERE applicant_user_id = :u ORDER BY created_at",
                      u=uuid.UUID(leaving))
    assert [a["status"] for a in apps] == ["approved", "withdrawn"]
    invites = await rows(lobby, "SELECT invite_id::text AS i, status FROM lobby.invites ORDER BY created_at")
    assert {(i["i"], i["status"]) for i in invites} == {(issued.invite_id, "revoked"), (received.invite_id, "revoked")}
    assert await rows(lobby, "SELECT name FROM lobby.race_names WHERE owner_user_id = :u", u=uuid.UUID(leaving)) == []
    transitions = await rows(lobby, "SELECT count(*) AS n FROM lobby.game_transitions")
    outbox = await rows(lobby, "SELECT count(*) AS n FROM lobby.outbox")

    await publish(lobby, "galaxy.account.lifecycle.v1", leaving, envelope)  # the same event again

    async def seen_twice() -> bool:
        [row] = await rows(lobby, "SELECT count(*) AS n FROM lobby.inbox WHERE event_id = :e",
                           e=uuid.UUID(envelope.event_id))
        return row["n"] == 1

    await eventually(seen_twice, "the event was not recorded")
    await asyncio.sleep(1.0)  # give a wrongly re-applied event the time to show (the inbox row exists already)
    assert await rows(lobby, "SELECT count(*) AS n FROM lobby.game_transitions") == transitions
    assert await rows(lobby, "SELECT count(*) AS n FROM lobby.outbox") == outbox


async def test_pause_and_resume_once_runtime_agrees(lobby_with_runtime):
    lobby = lobby_with_runtime
    owner, ann = await lobby.user("owner"), await lobby.user("ann")
    game = await create_private(lobby, owner)
    await add_member(lobby, game.game_id, ann, "Altair")
    await set_status(lobby, game.game_id, "running")
    paused = await lobby.stub.UserLobbyGamesPause(pb.UserLobbyGamesPauseRequest(user_id=owner, game_id=game.game_id))
    assert paused.status == "paused"
    resumed = await lobby.stub.UserLobbyGamesResume(pb.UserLobbyGamesResumeRequest(user_id=owner,
                                                                                   game_id=game.game_id))
    assert resumed.status == "running"
    stopped = await lobby.stub.AdminGamesForceStop(pb.AdminGamesForceStopRequest(admin_username=ADMIN,
                                                                                 game_id=game.game_id))
    assert stopped.status == "finished"
    assert lobby.runtime.calls == [("pause", game.game_id), ("resume", game.game_id), ("stop", game.game_id)]
    assert await outbox_kinds(lobby) == [
        (owner, "lobby.game.paused"), (ann, "lobby.game.paused"), (owner, "lobby.game.resumed"),
        (ann, "lobby.game.resumed"), (owner, "lobby.game.finished"), (ann, "lobby.game.finished")]
