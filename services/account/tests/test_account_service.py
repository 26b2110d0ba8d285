"""Account over real gRPC against a real database: ensure-by-email, the aggregate, admin changes, deletion."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from galaxy.account.v1 import account_pb2 as pb
from galaxy.events.v1.account_pb2 import AccountLifecycleEvent
from galaxy_kit.db import create_engine
from galaxy_kit.events import unpack, unpack_payload

from galaxy_account.domain import accounts as accounts_domain
from galaxy_account.domain.policy import LIFECYCLE_TOPIC

INVALID = grpc.StatusCode.INVALID_ARGUMENT
ADMIN = "root-admin"


def new_address(label: str = "pilot") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@Example.test"


async def ensure(stub, email: str, language: str = "en", zone: str = "Europe/Berlin"):
    return await stub.EnsureAccountByEmail(
        pb.EnsureAccountByEmailRequest(email=email, preferred_language=language, time_zone=zone)
    )


async def error_of(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value


async def fetch(stub, sql: str, **params) -> list[dict]:
    engine = create_engine(stub.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]
    finally:
        await engine.dispose()


async def let_time_pass(stub, table: str, column: str, user_id: str) -> None:
    """Move every `column` (ends_at/expires_at) of the user's rows in `table` one second into the past.

    Expiry is computed at read time against the clock, so this is what reading
    after the moment has passed looks like, without a sleep whose length would
    race the machine's speed.
    """
    engine = create_engine(stub.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(f"UPDATE account.{table} SET {column} = now() - interval '1 second' "
                        f"WHERE user_id = :u AND {column} IS NOT NULL"),
                {"u": uuid.UUID(user_id)},
            )
    finally:
        await engine.dispose()


def actor() -> pb.ActorRef:
    return pb.ActorRef(type="admin", id=ADMIN)


def block(user_id: str, **extra) -> pb.AdminUsersAddSanctionRequest:
    return pb.AdminUsersAddSanctionRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserSanctionRequest(sanction_code="permanent_block", scope="platform", reason_code="abuse",
                                         actor=actor(), **extra),
    )


async def test_ensure_creates_once_and_the_aggregate_starts_free(account):
    address = new_address()
    created = await ensure(account, address, language="DE-at", zone="Europe/Vienna")
    assert created.outcome == "created" and uuid.UUID(created.user_id)
    again = await ensure(account, address.lower())
    assert (again.outcome, again.user_id) == ("existing", created.user_id)

    got = (await account.UserAccountGet(pb.UserAccountGetRequest(user_id=created.user_id))).account
    assert got.email == address.split("@")[0] + "@example.test"
    assert got.user_name.startswith("player-") and len(got.user_name) == 15
    assert (got.preferred_language, got.time_zone) == ("de-AT", "Europe/Vienna")
    assert not got.HasField("display_name") and not got.HasField("declared_country")
    e = got.entitlement
    assert (e.plan_code, e.is_paid, e.max_registered_race_names, e.source) == ("free", False, 1, "auth_registration")
    assert not e.HasField("ends_at") and list(got.active_sanctions) == [] and list(got.active_limits) == []
    by_email = (await account.GetAccountByEmail(pb.GetAccountByEmailRequest(email=address.upper()))).account
    assert by_email.user_id == created.user_id
    assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=created.user_id))).status == "active"
    for unknown in (str(uuid.uuid4()), "nope"):
        assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=unknown))).status == "unknown"
    assert (await error_of(account.GetAccountByEmail(pb.GetAccountByEmailRequest(email=new_address())))).code() \
        == grpc.StatusCode.NOT_FOUND


async def test_an_unusable_registration_context_falls_back(account):
    created = await ensure(account, new_address(), language="not a tag", zone="Mars/Olympus")
    got = (await account.UserAccountGet(pb.UserAccountGetRequest(user_id=created.user_id))).account
    assert (got.preferred_language, got.time_zone) == ("en", "UTC")


async def test_racing_ensures_make_one_account(account):
    address = new_address("race")
    replies = await asyncio.gather(*(ensure(account, address) for _ in range(8)))
    assert len({r.user_id for r in replies}) == 1
    assert sorted(r.outcome for r in replies) == ["created"] + ["existing"] * 7
    rows = await fetch(account, "SELECT count(*) AS n FROM account.accounts WHERE email_key = :k", k=address.lower())
    assert rows == [{"n": 1}]
    grants = await fetch(account, "SELECT tier, source FROM account.entitlements WHERE user_id = :u",
                         u=uuid.UUID(replies[0].user_id))
    assert grants == [{"tier": "free", "source": "auth_registration"}]


async def test_an_ensure_that_loses_the_race_for_a_new_address_answers_the_winners_account(account):
    """The losing side of a race, made certain: an uncommitted account of the address holds the
    unique index while ensures arrive; they wait on it and, once it commits, answer `existing`
    with its id (no second account, no error)."""
    address = new_address("late")
    winner = uuid.uuid4()
    engine = create_engine(account.database_url, pool_size=2, max_overflow=0)
    try:
        async with engine.connect() as holder, engine.connect() as watcher:
            await holder.execute(
                sa.text("INSERT INTO account.accounts (user_id, email, email_key, user_name, preferred_language, "
                        "time_zone) VALUES (:u, :e, :k, 'player-winner23', 'en', 'UTC')"),
                {"u": winner, "e": address, "k": address.lower()},
            )
            racing = asyncio.gather(*(ensure(account, address) for _ in range(3)))
            waiting = 0
            deadline = asyncio.get_running_loop().time() + 30
            while waiting < 3:
                assert asyncio.get_running_loop().time() < deadline, "the ensures never queued on the index"
                await asyncio.sleep(0.05)
                waiting = (await watcher.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%INSERT INTO account.accounts%' AND pid <> pg_backend_pid()"
                ))).scalar_one()
                await watcher.rollback()
            await holder.commit()
            replies = await racing
    finally:
        await engine.dispose()
    assert [(r.outcome, r.user_id) for r in replies] == [("existing", str(winner))] * 3
    rows = await fetch(account, "SELECT count(*) AS n FROM account.accounts WHERE email_key = :k", k=address.lower())
    assert rows == [{"n": 1}]


async def test_racing_ensures_of_many_new_addresses_make_one_account_each(account):
    """Sign-ins of new addresses in parallel (the confirm hot path): each address gets exactly one account."""
    addresses = [new_address("crowd") for _ in range(6)]
    replies = await asyncio.gather(*(ensure(account, a) for a in addresses for _ in range(4)))
    by_address: dict[str, set[str]] = {}
    for address, reply in zip((a for a in addresses for _ in range(4)), replies, strict=True):
        by_address.setdefault(address, set()).add(reply.user_id)
    assert all(len(ids) == 1 for ids in by_address.values())
    assert sorted(r.outcome for r in replies).count("created") == len(addresses)
    rows = await fetch(account, "SELECT email_key, count(*) AS n FROM account.accounts "
                                "WHERE email_key LIKE 'crowd-%' GROUP BY email_key")
    assert sorted(r["n"] for r in rows) == [1] * len(addresses)


async def test_a_drawn_user_name_that_is_taken_is_drawn_again(account, monkeypatch):
    taken = (await account.UserAccountGet(pb.UserAccountGetRequest(
        user_id=(await ensure(account, new_address())).user_id))).account.user_name
    draws = iter([taken, taken, "player-fresh234"])
    monkeypatch.setattr(accounts_domain, "new_user_name", lambda: next(draws))
    created = await ensure(account, new_address("second"))
    assert created.outcome == "created"
    got = (await account.UserAccountGet(pb.UserAccountGetRequest(user_id=created.user_id))).account
    assert got.user_name == "player-fresh234"
    assert got.entitlement.plan_code == "free"

    # Never a free name: the sign-in fails (INTERNAL, not a half-made account) and writes nothing.
    monkeypatch.setattr(accounts_domain, "new_user_name", lambda: taken)
    address = new_address("unlucky")
    assert (await error_of(ensure(account, address))).code() == grpc.StatusCode.INTERNAL
    rows = await fetch(account, "SELECT count(*) AS n FROM account.accounts WHERE email_key = :k", k=address.lower())
    assert rows == [{"n": 0}]


async def test_profile_and_settings_validation_changes_nothing_on_error(account):
    user_id = (await ensure(account, new_address())).user_id

    def profile(**body):
        return account.UserAccountUpdateProfile(
            pb.UserAccountUpdateProfileRequest(user_id=user_id, body=pb.UpdateProfileRequest(**body)))

    def settings(**body):
        return account.UserAccountUpdateSettings(
            pb.UserAccountUpdateSettingsRequest(user_id=user_id, body=pb.UpdateSettingsRequest(**body)))

    assert (await profile(display_name=" Nova Prime ")).account.display_name == "Nova Prime"
    assert (await error_of(profile(display_name="x" * 33))).code() == INVALID
    assert (await error_of(profile(display_name="<b>"))).code() == INVALID
    assert not (await profile(display_name="")).account.HasField("display_name")
    updated = (await settings(preferred_language="fr-fr", time_zone="Europe/Paris")).account
    assert (updated.preferred_language, updated.time_zone) == ("fr-FR", "Europe/Paris")
    assert (await error_of(settings(preferred_language="fr_FR", time_zone="Europe/Berlin"))).code() == INVALID
    assert (await error_of(settings(time_zone="europe/berlin"))).code() == INVALID
    after = (await settings()).account
    assert (after.preferred_language, after.time_zone) == ("fr-FR", "Europe/Paris")
    stranger = pb.UserAccountGetRequest(user_id=str(uuid.uuid4()))
    assert (await error_of(account.UserAccountGet(stranger))).code() == INVALID


async def test_declared_country_sync(account):
    user_id = (await ensure(account, new_address())).user_id
    synced = await account.SyncDeclaredCountry(pb.SyncDeclaredCountryRequest(user_id=user_id, declared_country="de"))
    assert (synced.user_id, synced.declared_country) == (user_id, "DE")
    got = (await account.UserAccountGet(pb.UserAccountGetRequest(user_id=user_id))).account
    assert got.declared_country == "DE"
    bad = pb.SyncDeclaredCountryRequest(user_id=user_id, declared_country="Germany")
    assert (await error_of(account.SyncDeclaredCountry(bad))).code() == INVALID
    missing = pb.SyncDeclaredCountryRequest(user_id=str(uuid.uuid4()), declared_country="DE")
    assert (await error_of(account.SyncDeclaredCountry(missing))).code() == grpc.StatusCode.NOT_FOUND


async def test_entitlement_grant_history_and_expiry(account):
    user_id = (await ensure(account, new_address())).user_id
    ends = datetime.now(UTC) + timedelta(hours=1)
    request = pb.AdminUsersAddEntitlementRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserEntitlementRequest(tier="monthly", source="admin_console", actor=actor(),
                                            reason_code="promo"),
    )
    request.body.ends_at.FromDatetime(ends)
    paid = (await account.AdminUsersAddEntitlement(request)).account.entitlement
    assert (paid.plan_code, paid.is_paid, paid.max_registered_race_names, paid.reason_code) == ("monthly", True, 5, "promo")
    still = (await account.UserAccountGet(pb.UserAccountGetRequest(user_id=user_id))).account.entitlement
    assert (still.plan_code, still.is_paid) == ("monthly", True)
    await let_time_pass(account, "entitlements", "ends_at", user_id)
    lapsed = (await account.AdminUsersGet(pb.AdminUsersGetRequest(user_id=user_id))).account.entitlement
    assert (lapsed.plan_code, lapsed.is_paid, lapsed.max_registered_race_names) == ("free", False, 1)
    history = await fetch(account, "SELECT tier FROM account.entitlements WHERE user_id = :u ORDER BY entitlement_id",
                          u=user_id)
    assert [r["tier"] for r in history] == ["free", "monthly"]

    yearly = pb.AdminUsersAddEntitlementRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserEntitlementRequest(tier="yearly", source="admin_console", actor=actor()),
    )
    snap = (await account.AdminUsersAddEntitlement(yearly)).account.entitlement
    assert snap.plan_code == "yearly" and snap.HasField("ends_at")
    assert timedelta(days=364) < snap.ends_at.ToDatetime() - snap.starts_at.ToDatetime() <= timedelta(days=365)
    forever = pb.AdminUsersAddEntitlementRequest(
        admin_username=ADMIN, user_id=user_id,
        body=pb.AdminUserEntitlementRequest(tier="permanent", source="admin_console", actor=actor()),
    )
    forever.body.ends_at.FromDatetime(datetime.now(UTC) + timedelta(days=1))
    assert (await error_of(account.AdminUsersAddEntitlement(forever))).code() == INVALID
    missing = pb.AdminUsersAddEntitlementRequest(admin_username=ADMIN, user_id=str(uuid.uuid4()), body=yearly.body)
    assert (await error_of(account.AdminUsersAddEntitlement(missing))).code() == grpc.StatusCode.NOT_FOUND


async def test_limits_replace_by_code_and_expire(account):
    user_id = (await ensure(account, new_address())).user_id

    def limit(value: int, expires: datetime | None = None, code: str = "max_active_games"):
        request = pb.AdminUsersAddLimitRequest(
            admin_username=ADMIN, user_id=user_id,
            body=pb.AdminUserLimitRequest(limit_code=code, value=value, reason_code="trial", actor=actor()))
        if expires is not None:
            request.body.expires_at.FromDatetime(expires)
        return account.AdminUsersAddLimit(request)

    await limit(3)
    limits = (await limit(4, datetime.now(UTC) + timedelta(hours=1))).account.active_limits
    assert [(x.limit_code, x.value) for x in limits] == [("max_active_games", 4)]
    assert (await error_of(limit(1, code="max_everything"))).code() == INVALID
    assert (await error_of(limit(-1))).code() == INVALID
    await let_time_pass(account, "limits", "expires_at", user_id)
    # The latest limit of a code decides: once it has expired, the older unexpired 3 does not come back.
    got = (await account.AdminUsersGet(pb.AdminUsersGetRequest(user_id=user_id))).account
    assert list(got.active_limits) == []
    internal = (await account.InternalUsersGetAccountInternal(
        pb.InternalUsersGetAccountInternalRequest(user_id=user_id))).account
    assert list(internal.active_limits) == []


async def test_a_permanent_block_refuses_the_address_and_publishes_once(account):
    address = new_address("blocked")
    user_id = (await ensure(account, address)).user_id
    blocked = (await account.AdminUsersAddSanction(block(user_id))).account
    assert [s.sanction_code for s in blocked.active_sanctions] == ["permanent_block"]
    await account.AdminUsersAddSanction(block(user_id))  # already blocked: recorded, no second event
    reply = await ensure(account, address)
    assert (reply.outcome, reply.user_id, reply.block_reason_code) == ("blocked", "", "policy_blocked")
    assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=user_id))).status == "blocked"
    events = await lifecycle_events(account, user_id)
    assert [(e.kind, e.actor_type, e.actor_id, e.reason_code) for e in events] == [
        ("permanently_blocked", "admin", ADMIN, "abuse")
    ]
    past = block(user_id)
    past.body.expires_at.FromDatetime(datetime.now(UTC) - timedelta(seconds=1))
    assert (await error_of(account.AdminUsersAddSanction(past))).code() == INVALID


async def test_deleting_a_blocked_account_does_not_free_its_address(account):
    address = new_address("blocked-gone")
    user_id = (await ensure(account, address)).user_id
    await account.AdminUsersAddSanction(block(user_id))
    await account.AdminUsersSoftDelete(pb.AdminUsersSoftDeleteRequest(admin_username=ADMIN, user_id=user_id))
    reply = await ensure(account, address.upper())
    assert (reply.outcome, reply.user_id, reply.block_reason_code) == ("blocked", "", "policy_blocked")
    rows = await fetch(account, "SELECT count(*) AS n FROM account.accounts WHERE email_key = :k", k=address.lower())
    assert rows == [{"n": 1}]


async def test_an_expired_block_drops_out(account):
    address = new_address("timeout")
    user_id = (await ensure(account, address)).user_id
    request = block(user_id)
    request.body.expires_at.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    await account.AdminUsersAddSanction(request)
    assert (await ensure(account, address)).outcome == "blocked"
    assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=user_id))).status == "blocked"
    await let_time_pass(account, "sanctions", "expires_at", user_id)
    assert (await ensure(account, address)).outcome == "existing"
    assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=user_id))).status == "active"
    got = (await account.AdminUsersGet(pb.AdminUsersGetRequest(user_id=user_id))).account
    assert list(got.active_sanctions) == []


async def lifecycle_events(account, user_id: str) -> list[AccountLifecycleEvent]:
    rows = await fetch(account, "SELECT payload FROM account.outbox WHERE key = :k AND topic = :t ORDER BY id",
                       k=user_id, t=LIFECYCLE_TOPIC)
    return [unpack_payload(unpack(bytes(r["payload"])), AccountLifecycleEvent) for r in rows]


async def test_deletion_hides_the_account_and_frees_the_address(account):
    address = new_address("gone")
    first = (await ensure(account, address)).user_id
    await account.UserAccountDelete(pb.UserAccountDeleteRequest(user_id=first))
    assert (await account.ResolveUserIdentity(pb.ResolveUserIdentityRequest(user_id=first))).status == "deleted"
    assert (await error_of(account.UserAccountGet(pb.UserAccountGetRequest(user_id=first)))).code() == INVALID
    assert (await error_of(account.AdminUsersGet(pb.AdminUsersGetRequest(user_id=first)))).code() \
        == grpc.StatusCode.NOT_FOUND
    again = await ensure(account, address)
    assert again.outcome == "created" and again.user_id != first
    [event] = await lifecycle_events(account, first)
    assert (event.user_id, event.kind, event.actor_type, event.actor_id) == (first, "soft_deleted", "user", first)

    await account.AdminUsersSoftDelete(pb.AdminUsersSoftDeleteRequest(admin_username=ADMIN, user_id=again.user_id))
    [event] = await lifecycle_events(account, again.user_id)
    assert (event.kind, event.actor_type, event.actor_id) == ("soft_deleted", "admin", ADMIN)
    twice = pb.AdminUsersSoftDeleteRequest(admin_username=ADMIN, user_id=again.user_id)
    assert (await error_of(account.AdminUsersSoftDelete(twice))).code() == grpc.StatusCode.NOT_FOUND


async def test_admin_list_pages_live_accounts(account):
    ids = [(await ensure(account, new_address("list"))).user_id for _ in range(5)]
    await account.UserAccountDelete(pb.UserAccountDeleteRequest(user_id=ids[0]))
    first = await account.AdminUsersList(pb.AdminUsersListRequest(admin_username=ADMIN, page=1, page_size=3))
    second = await account.AdminUsersList(pb.AdminUsersListRequest(admin_username=ADMIN, page=2, page_size=3))
    assert (first.total, first.page, first.page_size, len(first.items), len(second.items)) == (4, 1, 3, 3, 1)
    assert [a.user_id for a in [*first.items, *second.items]] == ids[1:]
    internal = await account.InternalUsersGetAccountInternal(pb.InternalUsersGetAccountInternalRequest(user_id=ids[1]))
    assert internal.account.user_id == ids[1]


async def test_which_addresses_are_permanently_blocked_in_one_call(account):
    """GetPermanentlyBlockedEmails: only live accounts under an active permanent block, compared
    case-insensitively, answered as given; no account, a deleted one, an expired block or a
    malformed address is not blocked."""
    blocked, free, expired = new_address("b-blocked"), new_address("b-free"), new_address("b-expired")
    deleted = new_address("b-deleted")
    blocked_id = (await ensure(account, blocked)).user_id
    await ensure(account, free)
    expired_id = (await ensure(account, expired)).user_id
    deleted_id = (await ensure(account, deleted)).user_id
    await account.AdminUsersAddSanction(block(blocked_id))
    await account.AdminUsersAddSanction(block(deleted_id))
    await account.AdminUsersSoftDelete(pb.AdminUsersSoftDeleteRequest(admin_username=ADMIN, user_id=deleted_id))
    request = block(expired_id)
    request.body.expires_at.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    await account.AdminUsersAddSanction(request)
    await let_time_pass(account, "sanctions", "expires_at", expired_id)
    unknown = new_address("b-unknown")
    asked = [free, blocked.upper(), unknown, "not an address", expired, deleted, blocked]
    reply = await account.GetPermanentlyBlockedEmails(pb.GetPermanentlyBlockedEmailsRequest(emails=asked))
    assert list(reply.blocked_emails) == [blocked.upper(), blocked]
    for size in (0, 501):
        error = await error_of(account.GetPermanentlyBlockedEmails(
            pb.GetPermanentlyBlockedEmailsRequest(emails=[new_address() for _ in range(size)])))
        assert error.code() == INVALID
