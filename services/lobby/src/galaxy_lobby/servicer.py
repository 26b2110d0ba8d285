"""LobbyService over gRPC: translate messages, call the domain with the clock's `now`. Nothing else lives here."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

import grpc
from galaxy.lobby.v1 import lobby_pb2 as pb
from galaxy.lobby.v1 import lobby_pb2_grpc
from galaxy_kit.proto import timestamp
from sqlalchemy.engine import Row

from galaxy_lobby.domain import enrolment, games, race_names
from galaxy_lobby.domain.deps import Deps

Context = grpc.aio.ServicerContext


def now() -> datetime:
    return datetime.now(UTC)


def _when(message, field: str) -> datetime | None:
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def _opt(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def _summary_fields(game: Row) -> dict:
    fields = {
        "game_id": str(game.game_id), "game_name": game.game_name, "game_type": game.visibility,
        "status": game.status, "min_players": game.min_players, "max_players": game.max_players,
        "enrollment_ends_at": timestamp(game.enrollment_ends_at), "created_at": timestamp(game.created_at),
        "updated_at": timestamp(game.updated_at), "current_turn": game.current_turn,
    }
    if game.owner_user_id is not None:
        fields["owner_user_id"] = str(game.owner_user_id)
    return fields


def summary(game: Row) -> pb.GameSummary:
    return pb.GameSummary(**_summary_fields(game))


#: Summaries built from page rows, by the row's values (all but the last two, the list's version
#: and total: the columns a summary shows). A page of the public list is mostly the games of the page
#: before: the same values give the same message, so a cached one is exact whatever changed since (a
#: changed game is a new key). Emptied when full.
_SUMMARIES: dict[tuple, pb.GameSummary] = {}
SUMMARY_CACHE_SIZE = 4096


def page_summaries(rows: list) -> list[pb.GameSummary]:
    """The summaries of a page of the public list (rows of games.public_page)."""
    out = []
    for row in rows:
        key = row[:-2]
        message = _SUMMARIES.get(key)
        if message is None:
            if len(_SUMMARIES) >= SUMMARY_CACHE_SIZE:
                _SUMMARIES.clear()
            message = _SUMMARIES[key] = summary(row)
        out.append(message)
    return out


class PublicListReplies:
    """The public list's replies, by (page, page_size), each with the list's version it was read at.

    A reply is served again while the version still reads the same: every committed change of a
    public game moves it, in the change's own transaction (repository/tables.public_list_version),
    so an equal version is an unchanged list, and the reply is exact; a repeated page costs one
    one-row read instead of fifty rows decoded and a reply built. Per servicer, since replicas
    share nothing but the database. The least recently used page goes first when full.
    """

    def __init__(self, deps: Deps, *, size: int = 64) -> None:
        self._deps = deps
        self._size = size
        self._replies: OrderedDict[tuple[int, int], tuple[int, pb.GameSummaryPage]] = OrderedDict()

    async def page(self, page: int, page_size: int) -> pb.GameSummaryPage:
        key = (page, page_size)
        held = self._replies.get(key)
        if held is not None and await games.public_list_version(self._deps) == held[0]:
            self._replies.move_to_end(key)
            return held[1]
        rows, total, version = await games.public_page(self._deps, page=page, page_size=page_size)
        reply = pb.GameSummaryPage(items=page_summaries(rows), page=page, page_size=page_size, total=total)
        held = self._replies.get(key)
        # Concurrent misses may finish out of order: never replace a reply with an older one.
        if held is None or held[0] <= version:
            self._replies[key] = (version, reply)
            self._replies.move_to_end(key)
            if len(self._replies) > self._size:
                self._replies.popitem(last=False)
        return reply


def detail(game: Row) -> pb.LobbyGameDetail:
    message = pb.LobbyGameDetail(
        **_summary_fields(game), visibility=game.visibility, turn_schedule=game.turn_schedule,
        target_engine_version=game.target_engine_version, start_gap_hours=game.start_gap_hours,
        start_gap_players=game.start_gap_players, runtime_status=game.runtime_status,
    )
    if game.description is not None:
        message.description = game.description
    if game.engine_health is not None:
        message.engine_health = game.engine_health
    if game.started_at is not None:
        message.started_at.CopyFrom(timestamp(game.started_at))
    if game.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(game.finished_at))
    return message


def state_change(change: games.StateChange) -> pb.LobbyGameStateChange:
    return pb.LobbyGameStateChange(game_id=str(change.game_id), status=change.status,
                                   runtime_status=change.runtime_status)


def application(row: Row) -> pb.LobbyApplicationDetail:
    message = pb.LobbyApplicationDetail(
        application_id=str(row.application_id), game_id=str(row.game_id),
        applicant_user_id=str(row.applicant_user_id), race_name=row.race_name, status=row.status,
        created_at=timestamp(row.created_at),
    )
    if row.decided_at is not None:
        message.decided_at.CopyFrom(timestamp(row.decided_at))
    return message


def invite(row: Row, at: datetime) -> pb.LobbyInviteDetail:
    message = pb.LobbyInviteDetail(
        invite_id=str(row.invite_id), game_id=str(row.game_id), inviter_user_id=str(row.inviter_user_id),
        race_name=row.race_name, status=enrolment.invite_status(row, at), created_at=timestamp(row.created_at),
        expires_at=timestamp(row.expires_at),
    )
    if row.invited_user_id is not None:
        message.invited_user_id = str(row.invited_user_id)
    if row.code is not None:
        message.code = str(row.code)
    if row.decided_at is not None:
        message.decided_at.CopyFrom(timestamp(row.decided_at))
    return message


def membership(row: Row) -> pb.LobbyMembershipDetail:
    message = pb.LobbyMembershipDetail(
        membership_id=str(row.membership_id), game_id=str(row.game_id), user_id=str(row.user_id),
        race_name=row.race_name, canonical_key=row.canonical_key, status=row.status,
        joined_at=timestamp(row.joined_at),
    )
    if row.removed_at is not None:
        message.removed_at.CopyFrom(timestamp(row.removed_at))
    return message


def race_name(row: Row) -> pb.RaceNameDetail:
    message = pb.RaceNameDetail(name=row.name, canonical=row.canonical_key, status=row.status,
                                owner_user_id=str(row.owner_user_id))
    if row.game_id is not None:
        message.game_id = str(row.game_id)
    if row.source_game_id is not None:
        message.source_game_id = str(row.source_game_id)
    for field in ("reserved_at", "expires_at", "registered_at"):
        if getattr(row, field) is not None:
            getattr(message, field).CopyFrom(timestamp(getattr(row, field)))
    return message


def _fields(body) -> games.GameFields:
    return games.GameFields(
        game_name=body.game_name, description=_opt(body, "description"), min_players=body.min_players,
        max_players=body.max_players, start_gap_hours=body.start_gap_hours,
        start_gap_players=body.start_gap_players, enrollment_ends_at=_when(body, "enrollment_ends_at"),
        turn_schedule=body.turn_schedule, target_engine_version=body.target_engine_version,
    )


class LobbyServicer(lobby_pb2_grpc.LobbyServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._public_list = PublicListReplies(deps)

    # ---- games ----

    async def UserLobbyGamesList(self, request: pb.UserLobbyGamesListRequest, context: Context):
        return await self._public_list.page(request.page or 1, request.page_size or 50)

    async def UserLobbyGamesCreate(self, request: pb.UserLobbyGamesCreateRequest, context: Context):
        return detail(await games.create_private(self._deps, user_id=request.user_id, fields=_fields(request.body),
                                                 visibility=request.body.visibility, now=now()))

    async def UserLobbyGamesGet(self, request: pb.UserLobbyGamesGetRequest, context: Context):
        return detail(await games.get(self._deps, game_id=request.game_id))

    async def UserLobbyGamesUpdate(self, request: pb.UserLobbyGamesUpdateRequest, context: Context):
        body = request.body
        patch = games.GamePatch(
            **{f: _opt(body, f) for f in ("game_name", "description", "turn_schedule", "target_engine_version",
                                          "min_players", "max_players", "start_gap_hours", "start_gap_players")},
            enrollment_ends_at=_when(body, "enrollment_ends_at"),
        )
        return detail(await games.update(self._deps, user_id=request.user_id, game_id=request.game_id,
                                         patch=patch, now=now()))

    async def _user_move(self, operation, request):
        return state_change(await operation(self._deps, user_id=request.user_id, game_id=request.game_id,
                                            now=now()))

    async def UserLobbyGamesOpenEnrollment(self, request, context: Context):
        return await self._user_move(games.open_enrollment, request)

    async def UserLobbyGamesReadyToStart(self, request, context: Context):
        return await self._user_move(games.ready_to_start, request)

    async def UserLobbyGamesStart(self, request, context: Context):
        return await self._user_move(games.start, request)

    async def UserLobbyGamesPause(self, request, context: Context):
        return await self._user_move(games.pause, request)

    async def UserLobbyGamesResume(self, request, context: Context):
        return await self._user_move(games.resume, request)

    async def UserLobbyGamesCancel(self, request, context: Context):
        return await self._user_move(games.cancel, request)

    async def UserLobbyGamesRetryStart(self, request, context: Context):
        return await self._user_move(games.retry_start, request)

    async def UserLobbyMyGames(self, request: pb.UserLobbyMyGamesRequest, context: Context):
        return pb.MyGamesListResponse(items=[summary(r) for r in await games.mine(self._deps,
                                                                                 user_id=request.user_id)])

    # ---- applications ----

    async def UserLobbyApplicationsSubmit(self, request: pb.UserLobbyApplicationsSubmitRequest, context: Context):
        return application(await enrolment.submit(self._deps, user_id=request.user_id, game_id=request.game_id,
                                                  race_name=request.body.race_name, now=now()))

    async def UserLobbyApplicationsApprove(self, request: pb.UserLobbyApplicationsApproveRequest, context: Context):
        return application(await enrolment.approve(self._deps, user_id=request.user_id, game_id=request.game_id,
                                                   application_id=request.application_id, now=now()))

    async def UserLobbyApplicationsReject(self, request: pb.UserLobbyApplicationsRejectRequest, context: Context):
        return application(await enrolment.reject(self._deps, user_id=request.user_id, game_id=request.game_id,
                                                  application_id=request.application_id, now=now()))

    async def UserLobbyMyApplications(self, request: pb.UserLobbyMyApplicationsRequest, context: Context):
        rows = await enrolment.my_applications(self._deps, user_id=request.user_id)
        return pb.LobbyApplicationList(items=[application(r) for r in rows])

    # ---- invites ----

    async def UserLobbyInvitesIssue(self, request: pb.UserLobbyInvitesIssueRequest, context: Context):
        at = now()
        body = request.body
        return invite(await enrolment.issue(
            self._deps, user_id=request.user_id, game_id=request.game_id,
            invited_user_id=_opt(body, "invited_user_id"), race_name=_opt(body, "race_name"),
            expires_at=_when(body, "expires_at"), now=at,
        ), at)

    async def UserLobbyInvitesRedeem(self, request: pb.UserLobbyInvitesRedeemRequest, context: Context):
        at = now()
        return invite(await enrolment.redeem(self._deps, user_id=request.user_id, game_id=request.game_id,
                                             invite_id=request.invite_id, now=at), at)

    async def UserLobbyInvitesDecline(self, request: pb.UserLobbyInvitesDeclineRequest, context: Context):
        at = now()
        return invite(await enrolment.decline(self._deps, user_id=request.user_id, game_id=request.game_id,
                                              invite_id=request.invite_id, now=at), at)

    async def UserLobbyInvitesRevoke(self, request: pb.UserLobbyInvitesRevokeRequest, context: Context):
        at = now()
        return invite(await enrolment.revoke(self._deps, user_id=request.user_id, game_id=request.game_id,
                                             invite_id=request.invite_id, now=at), at)

    async def UserLobbyMyInvites(self, request: pb.UserLobbyMyInvitesRequest, context: Context):
        at = now()
        rows = await enrolment.my_invites(self._deps, user_id=request.user_id)
        return pb.LobbyInviteList(items=[invite(r, at) for r in rows])

    # ---- memberships ----

    async def UserLobbyMembershipsList(self, request: pb.UserLobbyMembershipsListRequest, context: Context):
        rows = await enrolment.memberships(self._deps, game_id=request.game_id)
        return pb.LobbyMembershipList(items=[membership(r) for r in rows])

    async def UserLobbyMembershipsRemove(self, request: pb.UserLobbyMembershipsRemoveRequest, context: Context):
        return membership(await enrolment.remove(self._deps, user_id=request.user_id, game_id=request.game_id,
                                                 membership_id=request.membership_id, now=now()))

    async def UserLobbyMembershipsBlock(self, request: pb.UserLobbyMembershipsBlockRequest, context: Context):
        return membership(await enrolment.block(self._deps, user_id=request.user_id, game_id=request.game_id,
                                                membership_id=request.membership_id, now=now()))

    # ---- race names ----

    async def UserLobbyMyRaceNames(self, request: pb.UserLobbyMyRaceNamesRequest, context: Context):
        rows = await race_names.mine(self._deps, user_id=request.user_id, now=now())
        return pb.RaceNameList(items=[race_name(r) for r in rows])

    async def UserLobbyRaceNamesRegister(self, request: pb.UserLobbyRaceNamesRegisterRequest, context: Context):
        return race_name(await race_names.register(self._deps, user_id=request.user_id, name=request.body.name,
                                                   now=now()))

    # ---- admin ----

    async def AdminGamesList(self, request: pb.AdminGamesListRequest, context: Context):
        page, size = request.page or 1, request.page_size or 50
        rows, total = await games.page(self._deps, page=page, page_size=size)
        return pb.AdminGameList(items=[detail(r) for r in rows], page=page, page_size=size, total=total)

    async def AdminGamesCreate(self, request: pb.AdminGamesCreateRequest, context: Context):
        return detail(await games.create_public(self._deps, admin_username=request.admin_username,
                                                fields=_fields(request.body), now=now()))

    async def AdminGamesGet(self, request: pb.AdminGamesGetRequest, context: Context):
        return detail(await games.get(self._deps, game_id=request.game_id))

    async def AdminGamesForceStart(self, request: pb.AdminGamesForceStartRequest, context: Context):
        return state_change(await games.force_start(self._deps, admin_username=request.admin_username,
                                                    game_id=request.game_id, now=now()))

    async def AdminGamesForceStop(self, request: pb.AdminGamesForceStopRequest, context: Context):
        return state_change(await games.force_stop(self._deps, admin_username=request.admin_username,
                                                   game_id=request.game_id, now=now()))

    async def AdminGamesBanMember(self, request: pb.AdminGamesBanMemberRequest, context: Context):
        return membership(await enrolment.ban(self._deps, admin_username=request.admin_username,
                                              game_id=request.game_id, user_id=request.body.user_id,
                                              reason=request.body.reason, now=now()))

    # ---- internal ----

    async def InternalGetActiveMember(self, request: pb.InternalGetActiveMemberRequest, context: Context):
        row = await enrolment.active_member(self._deps, game_id=request.game_id, user_id=request.user_id)
        return pb.ActiveMember(game_id=str(row.game_id), user_id=str(row.user_id), race_name=row.race_name)
