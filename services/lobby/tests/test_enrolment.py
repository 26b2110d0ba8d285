"""Applications, invites, memberships, race names and account's limits over real gRPC, races included."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from galaxy.account.v1 import account_pb2
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy_kit.proto import timestamp
from lobby_helpers import (
    ADMIN,
    apply,
    approve,
    create_private,
    error_of,
    invite,
    later,
    open_game,
    outbox_kinds,
    redeem,
    rows,
    set_status,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
FORBIDDEN = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def active_members(lobby, game_id: str) -> int:
    [row] = await rows(lobby, "SELECT count(*) AS n FROM lobby.memberships WHERE game_id = :g AND status = 'active'",
                       g=uuid.UUID(game_id))
    return row["n"]


async def limit(lobby, user_id: str, code: str, value: int) -> None:
    await lobby.account.AdminUsersAddLimit(account_pb2.AdminUsersAddLimitRequest(
        admin_username=ADMIN, user_id=user_id, body=account_pb2.AdminUserLimitRequest(
            limit_code=code, value=value, reason_code="test", actor=account_pb2.ActorRef(type="admin", id=ADMIN))))


async def test_apply_approve_reject_and_who_may_apply(lobby):
    owner, ann, bob = await lobby.user("owner"), await lobby.user("ann"), await lobby.user("bob")
    game = await create_private(lobby, owner)
    early = await error_of(apply(lobby, ann, game.game_id, "Star_Lords"))
    assert early.code() == CONFLICT and "not enrolling (it is draft)" in early.details()
    await lobby.stub.UserLobbyGamesOpenEnrollment(pb.UserLobbyGamesOpenEnrollmentRequest(user_id=owner,
                                                                                         game_id=game.game_id))
    submitted = await apply(lobby, ann, game.game_id, "  Star_Lords ")
    assert (submitted.status, submitted.race_name, submitted.applicant_user_id) == ("pending", "Star_Lords", ann)
    again = await error_of(apply(lobby, ann, game.game_id, "Other"))
    assert again.code() == CONFLICT and "pending application" in again.details()
    bad = await error_of(apply(lobby, bob, game.game_id, "<script>"))
    assert bad.code() == INVALID
    not_owner = await error_of(approve(lobby, bob, game.game_id, submitted.application_id))
    assert not_owner.code() == FORBIDDEN
    approved = await approve(lobby, owner, game.game_id, submitted.application_id)
    assert approved.status == "approved" and approved.HasField("decided_at")
    twice = await error_of(approve(lobby, owner, game.game_id, submitted.application_id))
    assert twice.code() == CONFLICT and "already approved" in twice.details()
    member = await error_of(apply(lobby, ann, game.game_id, "Star_Lords"))
    assert member.code() == CONFLICT and "already a member" in member.details()

    rejected_one = await apply(lobby, bob, game.game_id, "Blue_Suns")
    rejected = await lobby.stub.UserLobbyApplicationsReject(pb.UserLobbyApplicationsRejectRequest(
        user_id=owner, game_id=game.game_id, application_id=rejected_one.application_id))
    assert rejected.status == "rejected"
    names = await rows(lobby, "SELECT name, canonical_key, status, owner_user_id::text AS owner "
                              "FROM lobby.race_names ORDER BY race_name_id")
    assert names == [{"name": "Star_Lords", "canonical_key": "starlords", "status": "reservation", "owner": ann}]
    members = await lobby.stub.UserLobbyMembershipsList(pb.UserLobbyMembershipsListRequest(user_id=bob,
                                                                                           game_id=game.game_id))
    assert [(m.user_id, m.race_name, m.canonical_key, m.status) for m in members.items] == \
        [(ann, "Star_Lords", "starlords", "active")]
    mine = await lobby.stub.UserLobbyMyApplications(pb.UserLobbyMyApplicationsRequest(user_id=bob))
    assert [a.status for a in mine.items] == ["rejected"]
    assert await outbox_kinds(lobby) == [
        (owner, "lobby.application.submitted"), (ann, "lobby.application.decided"),
        (owner, "lobby.application.submitted"), (bob, "lobby.application.decided"),
    ]


async def test_the_last_seat_under_twenty_concurrent_approvals_and_redeems(lobby):
    owner = await lobby.user("owner")
    game = await open_game(lobby, owner, min_players=1, max_players=3)
    applicants = [await lobby.user(f"a{i}") for i in range(10)]
    invitees = [await lobby.user(f"i{i}") for i in range(10)]
    applications = [await apply(lobby, user, game.game_id, f"Applicant_{i}") for i, user in enumerate(applicants)]
    invites = [await invite(lobby, owner, game.game_id, f"Invitee_{i}", invited=user)
               for i, user in enumerate(invitees)]
    calls = [approve(lobby, owner, game.game_id, a.application_id) for a in applications] + \
            [redeem(lobby, user, game.game_id, i.invite_id) for user, i in zip(invitees, invites, strict=True)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 3, results
    assert all(isinstance(e, grpc.aio.AioRpcError) and e.code() == CONFLICT and "the game is full" in e.details()
               for e in lost), lost
    assert await active_members(lobby, game.game_id) == 3


async def test_two_users_racing_one_canonical_name_leave_one_holder(lobby):
    owner = await lobby.user("owner")
    # Full-width forms, case, separators and ASCII look-alikes: one canonical key each pair.
    spellings = [("Star_Lords", "ＳＴＡＲＬ０ＲＤＳ"), ("Nova_Prime", "novaprime"), ("Vega", "VEGA"),
                 ("Iron_Tide", "1ron_tide"), ("Zeta_One", "ZETA_0NE")]
    for first, second in spellings:
        game = await open_game(lobby, owner)
        ann, bob = await lobby.user("ann"), await lobby.user("bob")
        results = await asyncio.gather(apply(lobby, ann, game.game_id, first), apply(lobby, bob, game.game_id, second),
                                       return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        [loser] = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1 and loser.code() == CONFLICT and "held by another player" in loser.details()
        holders = await rows(lobby, "SELECT DISTINCT owner_user_id::text AS o FROM lobby.race_names "
                                    "WHERE canonical_key = (SELECT canonical_key FROM lobby.applications "
                                    "WHERE application_id = :a)", a=uuid.UUID(winners[0].application_id))
        assert holders == [{"o": winners[0].applicant_user_id}]


async def finish_with_member(lobby, owner: str, user: str, race_name: str) -> str:
    game = await open_game(lobby, owner, min_players=1)
    application = await apply(lobby, user, game.game_id, race_name)
    await approve(lobby, owner, game.game_id, application.application_id)
    await set_status(lobby, game.game_id, "running")
    stopped = await lobby.stub.AdminGamesForceStop(pb.AdminGamesForceStopRequest(admin_username=ADMIN,
                                                                                 game_id=game.game_id))
    assert stopped.status == "finished"
    return game.game_id


async def test_register_promotes_a_pending_name_within_the_allowance(lobby):
    owner, player = await lobby.user("owner"), await lobby.user("player")
    first_game = await finish_with_member(lobby, owner, player, "Star_Lords")
    await finish_with_member(lobby, owner, player, "Blue_Suns")
    names = await lobby.stub.UserLobbyMyRaceNames(pb.UserLobbyMyRaceNamesRequest(user_id=player))
    assert sorted((n.name, n.status, n.source_game_id == first_game) for n in names.items) == \
        [("Blue_Suns", "pending_registration", False), ("Star_Lords", "pending_registration", True)]

    def register(name: str):
        return lobby.stub.UserLobbyRaceNamesRegister(pb.UserLobbyRaceNamesRegisterRequest(
            user_id=player, body=pb.RaceNameRegisterRequest(name=name)))

    registered = await register("star_lords")
    assert (registered.name, registered.status, registered.canonical) == ("Star_Lords", "registered", "starlords")
    over = await error_of(register("Blue_Suns"))
    assert over.code() == CONFLICT and "allowance is 1" in over.details()
    assert (await error_of(register("Never_Played"))).code() == NOT_FOUND
    await limit(lobby, player, "max_registered_race_names", 2)
    assert (await register("Blue_Suns")).status == "registered"
    other = await lobby.user("other")
    game = await open_game(lobby, owner)
    taken = await error_of(apply(lobby, other, game.game_id, "STARL0RDS"))
    assert taken.code() == CONFLICT and "held by another player" in taken.details()
    own = await apply(lobby, player, game.game_id, "Star_Lords")  # the holder may play it again
    assert own.status == "pending"


async def test_account_limits_apply(lobby):
    owner, player = await lobby.user("owner"), await lobby.user("player")
    games = [await open_game(lobby, owner) for _ in range(3)]
    await limit(lobby, player, "max_pending_applications", 1)
    await apply(lobby, player, games[0].game_id, "Vega")
    over = await error_of(apply(lobby, player, games[1].game_id, "Vega"))
    assert over.code() == CONFLICT and "pending applications; the allowance is 1" in over.details()
    await limit(lobby, owner, "max_active_games", 3)
    too_many = await error_of(create_private(lobby, owner))
    assert too_many.code() == CONFLICT and "allowance is 3" in too_many.details()
    await limit(lobby, owner, "max_pending_invites", 1)
    await invite(lobby, owner, games[0].game_id, "Rigel")
    invites = await error_of(invite(lobby, owner, games[0].game_id, "Deneb"))
    assert invites.code() == CONFLICT and "pending invites; the allowance is 1" in invites.details()


async def test_memberships_remove_block_and_ban(lobby):
    owner, ann, bob, cid = [await lobby.user(x) for x in ("owner", "ann", "bob", "cid")]
    game = await open_game(lobby, owner)
    seats = {}
    for user, name in ((ann, "Ann_Race"), (bob, "Bob_Race"), (cid, "Cid_Race")):
        application = await apply(lobby, user, game.game_id, name)
        await approve(lobby, owner, game.game_id, application.application_id)
    for m in (await lobby.stub.UserLobbyMembershipsList(pb.UserLobbyMembershipsListRequest(
            user_id=owner, game_id=game.game_id))).items:
        seats[m.user_id] = m.membership_id

    def call(rpc, user, membership_id):
        request_type = getattr(pb, f"{rpc}Request")
        return getattr(lobby.stub, rpc)(request_type(user_id=user, game_id=game.game_id, membership_id=membership_id))

    assert (await error_of(call("UserLobbyMembershipsRemove", bob, seats[ann]))).code() == FORBIDDEN
    assert (await error_of(call("UserLobbyMembershipsBlock", ann, seats[ann]))).code() == FORBIDDEN
    left = await call("UserLobbyMembershipsRemove", ann, seats[ann])
    assert left.status == "removed" and left.HasField("removed_at")
    assert (await error_of(call("UserLobbyMembershipsRemove", ann, seats[ann]))).code() == CONFLICT
    blocked = await call("UserLobbyMembershipsBlock", owner, seats[bob])
    assert blocked.status == "blocked"
    again = await error_of(apply(lobby, bob, game.game_id, "Bob_Race"))
    assert again.code() == CONFLICT and "blocked" in again.details()
    control = await error_of(lobby.stub.AdminGamesBanMember(pb.AdminGamesBanMemberRequest(
        admin_username=ADMIN, game_id=game.game_id, body=pb.AdminGameBanMemberRequest(user_id=cid, reason="a\x00b"))))
    assert control.code() == INVALID and "control characters" in control.details()
    banned = await lobby.stub.AdminGamesBanMember(pb.AdminGamesBanMemberRequest(
        admin_username=ADMIN, game_id=game.game_id, body=pb.AdminGameBanMemberRequest(user_id=cid, reason="cheating")))
    assert banned.status == "blocked"
    [row] = await rows(lobby, "SELECT reason, removed_by FROM lobby.memberships WHERE membership_id = :m",
                       m=uuid.UUID(seats[cid]))
    assert row == {"reason": "cheating", "removed_by": f"admin:{ADMIN}"}
    nobody = await error_of(lobby.stub.AdminGamesBanMember(pb.AdminGamesBanMemberRequest(
        admin_username=ADMIN, game_id=game.game_id,
        body=pb.AdminGameBanMemberRequest(user_id=str(uuid.uuid4()), reason="x"))))
    assert nobody.code() == NOT_FOUND
    # A seat given back before the start frees its name.
    assert await rows(lobby, "SELECT name FROM lobby.race_names ORDER BY name") == []
    kinds = [k for _, k in await outbox_kinds(lobby)]
    assert kinds[-3:] == ["lobby.membership.removed", "lobby.membership.blocked", "lobby.membership.blocked"]


async def test_invites_user_bound_and_code_based(lobby):
    owner, ann, bob, cid = [await lobby.user(x) for x in ("owner", "ann", "bob", "cid")]
    game = await open_game(lobby, owner)
    bound = await invite(lobby, owner, game.game_id, "Ann_Race", invited=ann)
    assert (bound.status, bound.invited_user_id, bound.HasField("code")) == ("pending", ann, False)
    assert (await error_of(invite(lobby, ann, game.game_id, "X"))).code() == FORBIDDEN
    assert (await error_of(invite(lobby, owner, game.game_id, "X", invited=owner))).code() == INVALID
    assert (await error_of(invite(lobby, owner, game.game_id, "X", invited=str(uuid.uuid4())))).code() == NOT_FOUND
    assert (await error_of(invite(lobby, owner, game.game_id, "X",
                                  expires_at=timestamp(later(seconds=-1))))).code() == INVALID
    assert (await error_of(redeem(lobby, bob, game.game_id, bound.invite_id))).code() == NOT_FOUND
    redeemed = await redeem(lobby, ann, game.game_id, bound.invite_id)
    assert redeemed.status == "redeemed"
    assert (await error_of(redeem(lobby, ann, game.game_id, bound.invite_id))).code() == CONFLICT

    coded = await invite(lobby, owner, game.game_id, "Open_Seat")
    assert coded.HasField("code") and not coded.HasField("invited_user_id")
    assert (await error_of(redeem(lobby, bob, game.game_id, coded.invite_id))).code() == NOT_FOUND
    assert (await redeem(lobby, bob, game.game_id, coded.code)).status == "redeemed"
    once = await error_of(redeem(lobby, cid, game.game_id, coded.code))
    assert once.code() == CONFLICT and "the invite is redeemed" in once.details()

    declined_one = await invite(lobby, owner, game.game_id, "Cid_Race", invited=cid)
    assert (await error_of(lobby.stub.UserLobbyInvitesDecline(pb.UserLobbyInvitesDeclineRequest(
        user_id=bob, game_id=game.game_id, invite_id=declined_one.invite_id)))).code() == FORBIDDEN
    declined = await lobby.stub.UserLobbyInvitesDecline(pb.UserLobbyInvitesDeclineRequest(
        user_id=cid, game_id=game.game_id, invite_id=declined_one.invite_id))
    assert declined.status == "declined"
    revoked_one = await invite(lobby, owner, game.game_id, "Cid_Race", invited=cid)
    assert (await error_of(lobby.stub.UserLobbyInvitesRevoke(pb.UserLobbyInvitesRevokeRequest(
        user_id=cid, game_id=game.game_id, invite_id=revoked_one.invite_id)))).code() == FORBIDDEN
    revoked = await lobby.stub.UserLobbyInvitesRevoke(pb.UserLobbyInvitesRevokeRequest(
        user_id=owner, game_id=game.game_id, invite_id=revoked_one.invite_id))
    assert revoked.status == "revoked"
    assert (await error_of(redeem(lobby, cid, game.game_id, revoked_one.invite_id))).code() == CONFLICT

    expiring = await invite(lobby, owner, game.game_id, "Cid_Race", invited=cid)
    await rows(lobby, "UPDATE lobby.invites SET expires_at = now() - interval '1 second' WHERE invite_id = :i",
               i=uuid.UUID(expiring.invite_id))
    expired = await error_of(redeem(lobby, cid, game.game_id, expiring.invite_id))
    assert expired.code() == CONFLICT and "the invite is expired" in expired.details()
    mine = await lobby.stub.UserLobbyMyInvites(pb.UserLobbyMyInvitesRequest(user_id=cid))
    assert [i.status for i in mine.items] == ["expired", "revoked", "declined"]
    assert await active_members(lobby, game.game_id) == 2
    kinds = [(u, k) for u, k in await outbox_kinds(lobby) if k == "lobby.invite.received"]
    assert kinds == [(ann, "lobby.invite.received")] + [(cid, "lobby.invite.received")] * 3
