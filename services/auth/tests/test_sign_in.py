"""Sign-in by e-mail code over real gRPC: the code is read from the e-mail the real mail service sent."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta

import grpc
import pytest
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.auth.v1 import auth_pb2
from galaxy_devstack.testing import free_port
from nacl.signing import SigningKey

from auth_testkit import Auth, new_address, new_public_key, rpc_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_full_sign_in_with_the_code_from_the_email(auth: Auth):
    address = new_address()
    public_key = new_public_key()
    challenge_id = await auth.send(address)
    assert uuid.UUID(challenge_id).version == 4

    [message] = await auth.neighbours.wait_for_messages(address)
    code = await auth.neighbours.code_for(address)
    device_session_id = await auth.confirm(challenge_id, code, public_key=public_key)

    session = await auth.session(device_session_id)
    assert session.device_session_id == device_session_id
    assert session.status == "active"
    assert session.client_public_key == public_key
    assert uuid.UUID(session.user_id)
    assert session.HasField("created_at") and not session.HasField("revoked_at")
    assert session.HasField("last_seen_at")  # the lookup is the gateway seeing the device

    # Only a keyed digest of the code is stored.
    [stored] = await auth.fetch(
        "SELECT code_hash, consumed_at FROM auth.login_challenges WHERE challenge_id = :id", id=challenge_id
    )
    assert len(stored["code_hash"]) == 32 and code.encode() not in stored["code_hash"]
    assert stored["consumed_at"] is not None

    # The same address signs in again as the same user, on a second device.
    second = await auth.sign_in(address)
    assert (await auth.session(second)).user_id == session.user_id
    assert second != device_session_id


@pytest.mark.parametrize(
    ("locale", "accept_language", "expected"),
    [
        (None, None, "en"),
        ("de", None, "de"),
        ("de-AT", "ru", "de"),
        ("xx-not-a-locale!", "ru-RU;q=0.9, de;q=0.8", "ru"),
        (None, "fr, de;q=0.5, en;q=0.4", "de"),
        (None, "fr-CA, ja", "en"),
    ],
)
async def test_the_code_is_mailed_in_the_chosen_locale(auth: Auth, locale, accept_language, expected):
    address = new_address("locale")
    challenge_id = await auth.send(address, locale=locale, accept_language=accept_language)
    [row] = await auth.fetch("SELECT locale FROM auth.login_challenges WHERE challenge_id = :id", id=challenge_id)
    assert row["locale"] == expected
    [message] = await auth.neighbours.wait_for_messages(address)
    language = message.get("Content-Language")
    if language is not None:  # the mail service says which template it rendered
        assert language.lower().startswith(expected)


async def test_five_wrong_codes_kill_the_challenge(auth: Auth):
    address = new_address("wrong")
    challenge_id = await auth.send(address)
    code = await auth.neighbours.code_for(address)
    for attempt in range(1, 6):
        error = await rpc_error(auth.confirm(challenge_id, other_code(code)))
        assert error.code() == INVALID
        assert "wrong code" in error.details()
    assert "request a new one" in error.details()  # the fifth one says the code is dead
    error = await rpc_error(auth.confirm(challenge_id, code))
    assert error.code() == INVALID
    assert "no longer be used" in error.details()
    assert await auth.fetch(
        "SELECT 1 FROM auth.device_sessions WHERE challenge_id = :id", id=challenge_id
    ) == []


async def test_an_expired_code_is_refused(auth: Auth):
    address = new_address("expired")
    challenge_id = await auth.send(address)
    code = await auth.neighbours.code_for(address)
    # Expiry is a stored time compared with the database clock: move it instead of sleeping.
    await auth.execute(
        "UPDATE auth.login_challenges SET expires_at = now() - interval '1 second' WHERE challenge_id = :id",
        id=challenge_id,
    )
    error = await rpc_error(auth.confirm(challenge_id, code))
    assert error.code() == INVALID
    assert "expired" in error.details()


async def test_a_used_code_cannot_be_replayed(auth: Auth):
    address = new_address("replay")
    challenge_id = await auth.send(address)
    code = await auth.neighbours.code_for(address)
    await auth.confirm(challenge_id, code)
    error = await rpc_error(auth.confirm(challenge_id, code))
    assert error.code() == INVALID


BAD_PUBLIC_KEYS = {
    "not-base64": "not base64 at all!",
    "31-bytes": base64.b64encode(bytes(31)).decode(),
    "33-bytes": base64.b64encode(bytes(33)).decode(),
    "unpadded": base64.b64encode(bytes(SigningKey.generate().verify_key)).decode().rstrip("="),
    "urlsafe": base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),  # URL-safe alphabet, not standard
    "small-order-point": base64.b64encode(b"\x01" + bytes(31)).decode(),  # the identity: order 1
    "empty": "",
}
BAD_TIME_ZONES = ["Mars/Olympus_Mons", "", "../../etc/passwd", "europe/berlin", "UTC+2"]


async def test_a_malformed_public_key_or_time_zone_is_refused_without_spending_the_code(auth: Auth):
    address = new_address("key")
    challenge_id = await auth.send(address)
    code = await auth.neighbours.code_for(address)
    for name, public_key in BAD_PUBLIC_KEYS.items():
        error = await rpc_error(auth.confirm(challenge_id, code, public_key=public_key))
        assert error.code() == INVALID, name
        assert "client_public_key" in error.details(), name
    for time_zone in BAD_TIME_ZONES:
        error = await rpc_error(auth.confirm(challenge_id, code, time_zone=time_zone))
        assert error.code() == INVALID, time_zone
        assert "time_zone" in error.details(), time_zone
    # More refusals than the wrong-code limit, and the code is still good.
    assert len(BAD_PUBLIC_KEYS) + len(BAD_TIME_ZONES) > auth.settings.auth_code_max_attempts
    assert await auth.confirm(challenge_id, code, time_zone="America/Argentina/Buenos_Aires")


async def test_known_and_unknown_addresses_get_the_same_answer(auth: Auth):
    known = new_address("known")
    await auth.sign_in(known)
    unknown = new_address("unknown")

    replies = []
    for address in (known, unknown):
        body = auth_pb2.PublicAuthSendEmailCodeRequest(email=address)
        replies.append(
            await auth.stub.PublicAuthSendEmailCode(auth_pb2.PublicAuthSendEmailCodeRpcRequest(body=body))
        )
    shapes = [[field.name for field, _ in reply.ListFields()] for reply in replies]
    assert shapes[0] == shapes[1] == ["challenge_id"]
    assert all(uuid.UUID(reply.challenge_id).version == 4 for reply in replies)
    # Both got an e-mail: the same work was done for both.
    await auth.neighbours.wait_for_messages(known, 2)
    await auth.neighbours.wait_for_messages(unknown, 1)


@pytest.mark.parametrize("email", ["", "no-at-sign", "two@@example.test", "spaces in@example.test", "x@bad_domain.test"])
async def test_a_malformed_address_is_refused(start_auth, neighbours, email):
    async with start_auth() as auth:
        error = await rpc_error(auth.send(email))
        assert error.code() == INVALID


async def test_codes_per_address_are_rate_limited(auth: Auth):
    address = new_address("limited")
    for _ in range(auth.settings.auth_code_rate_limit):
        await auth.send(address)
    error = await rpc_error(auth.send(address.upper().replace("@EXAMPLE.TEST", "@example.test")))
    assert error.code() == INVALID
    assert "too many codes" in error.details()
    assert await auth.send(new_address("limited"))  # another address is not affected
    await auth.neighbours.wait_for_messages(address, auth.settings.auth_code_rate_limit)


async def test_concurrent_code_requests_for_one_address_stop_exactly_at_the_limit(auth: Auth):
    """The limit holds under concurrency: of 3x the limit simultaneous requests exactly `limit` pass,
    and only those have a challenge and a mailed code."""
    address = new_address("limited-race")
    limit = auth.settings.auth_code_rate_limit
    results = await asyncio.gather(*(auth.send(address) for _ in range(3 * limit)), return_exceptions=True)
    issued = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(issued) == limit, results
    assert len(refused) == 2 * limit and all("too many codes" in e.details() for e in refused)
    rows = await auth.fetch("SELECT challenge_id FROM auth.login_challenges WHERE email = :a", a=address)
    assert sorted(str(r["challenge_id"]) for r in rows) == sorted(issued)
    await auth.neighbours.wait_for_messages(address, limit)
    await asyncio.sleep(1.0)  # room for a code of a refused request to show up, were there one
    assert len(auth.neighbours.messages_to(address)) == limit


async def test_the_limit_is_exact_across_two_replicas(start_auth):
    async with start_auth() as first, start_auth() as second:
        address = new_address("limited-replicas")
        limit = first.settings.auth_code_rate_limit
        results = await asyncio.gather(
            *((first if n % 2 else second).send(address) for n in range(3 * limit)), return_exceptions=True
        )
        issued = [r for r in results if isinstance(r, str)]
        assert len(issued) == limit, results
        assert all("too many codes" in r.details() for r in results if isinstance(r, grpc.aio.AioRpcError))
        rows = await first.fetch("SELECT challenge_id FROM auth.login_challenges WHERE email = :a", a=address)
        assert sorted(str(r["challenge_id"]) for r in rows) == sorted(issued)


async def test_requests_older_than_the_window_no_longer_count(auth: Auth):
    address = new_address("limited-slide")
    limit = auth.settings.auth_code_rate_limit
    for _ in range(limit):
        await auth.send(address)
    assert "too many codes" in (await rpc_error(auth.send(address))).details()
    # Move the recorded requests out of the window (16 minutes ago; the window is 15).
    await auth.execute(
        "UPDATE auth.login_code_requests SET requested_at = ARRAY(SELECT t - interval '16 minutes'"
        " FROM unnest(requested_at) AS t) WHERE email_key = :key", key=address.lower(),
    )
    for _ in range(limit):
        await auth.send(address)
    assert "too many codes" in (await rpc_error(auth.send(address))).details()


async def test_two_confirmations_racing_with_one_code_make_one_session(auth: Auth):
    address = new_address("race")
    challenge_id = await auth.send(address)
    code = await auth.neighbours.code_for(address)
    results = await asyncio.gather(
        *(auth.confirm(challenge_id, code) for _ in range(4)), return_exceptions=True
    )
    succeeded = [r for r in results if isinstance(r, str)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(succeeded) == 1, results
    assert len(failed) == 3 and all(e.code() == INVALID for e in failed)
    rows = await auth.fetch("SELECT device_session_id FROM auth.device_sessions WHERE challenge_id = :id",
                            id=challenge_id)
    assert [str(r["device_session_id"]) for r in rows] == succeeded


async def test_confirmations_racing_for_one_new_address_make_one_account(auth: Auth):
    """Several codes of an address nobody has signed in with, confirmed at once (auth asks the real
    account service for each): every confirmation gets its session, all of one new user."""
    address = new_address("first-time")
    challenges = []
    for nth in range(1, 5):
        challenges.append((await auth.send(address), await auth.neighbours.code_for(address, nth)))
    sessions = await asyncio.gather(*(auth.confirm(challenge_id, code) for challenge_id, code in challenges))
    users = {(await auth.session(session_id)).user_id for session_id in sessions}
    assert len(set(sessions)) == 4 and len(users) == 1
    rows = await auth.fetch("SELECT user_id FROM account.accounts WHERE email_key = :key", key=address.lower())
    assert [str(r["user_id"]) for r in rows] == list(users)


async def test_an_unknown_challenge_is_refused(auth: Auth):
    for challenge_id in (str(uuid.uuid4()), "not-a-uuid"):
        error = await rpc_error(auth.confirm(challenge_id, "123456"))
        assert error.code() == INVALID


# ---- account not built: sign-in cannot finish ----


@pytest.fixture
async def account_before_its_issue():
    """An AccountService that implements nothing (the generated base class), as before account's issue."""
    server = grpc.aio.server()
    account_pb2_grpc.add_AccountServiceServicer_to_server(account_pb2_grpc.AccountServiceServicer(), server)
    address = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(address)
    await server.start()
    yield address
    await server.stop(None)


async def test_an_account_service_that_cannot_answer_refuses_sign_in_and_the_code_stays_usable(
    start_auth, account_before_its_issue
):
    # Fail closed: "is this address blocked?" unanswered (UNIMPLEMENTED) refuses, never lets through.
    async with start_auth(account_grpc_target=account_before_its_issue) as auth:
        address = new_address("no-account")
        error = await rpc_error(auth.send(address))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "account" in error.details()
        assert await auth.fetch("SELECT 1 FROM auth.login_challenges WHERE email = :a", a=address) == []
    async with start_auth() as auth:
        challenge_id = await auth.send(address)
        code = await auth.neighbours.code_for(address)
    async with start_auth(account_grpc_target=account_before_its_issue) as auth:
        error = await rpc_error(auth.confirm(challenge_id, code))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    async with start_auth() as auth:
        assert await auth.session(await auth.confirm(challenge_id, code))


# ---- account unreachable, account says blocked ----


async def test_an_unreachable_account_service_is_unavailable(start_auth, neighbours):
    async with start_auth(account_grpc_target=f"127.0.0.1:{free_port()}", auth_downstream_timeout_seconds=2.0) as auth:
        error = await rpc_error(auth.send(new_address("down")))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "account" in error.details()


async def test_a_permanently_blocked_address_is_refused(auth: Auth):
    address = new_address("blocked")
    session = await auth.session(await auth.sign_in(address))
    account = account_pb2_grpc.AccountServiceStub(auth.neighbours.account.channel)
    await account.AdminUsersAddSanction(
        account_pb2.AdminUsersAddSanctionRequest(
            admin_username="root-admin",
            user_id=session.user_id,
            body=account_pb2.AdminUserSanctionRequest(
                sanction_code="permanent_block",
                scope="platform",
                reason_code="abuse",
                actor=account_pb2.ActorRef(type="admin", id="root-admin"),
            ),
        )
    )
    error = await rpc_error(auth.send(address))
    assert error.code() == INVALID
    assert "cannot be used to sign in" in error.details()


async def block_user(auth: Auth, user_id: str) -> None:
    account = account_pb2_grpc.AccountServiceStub(auth.neighbours.account.channel)
    await account.AdminUsersAddSanction(
        account_pb2.AdminUsersAddSanctionRequest(
            admin_username="root-admin",
            user_id=user_id,
            body=account_pb2.AdminUserSanctionRequest(
                sanction_code="permanent_block", scope="platform", reason_code="abuse",
                actor=account_pb2.ActorRef(type="admin", id="root-admin"),
            ),
        )
    )


async def test_block_checks_asked_together_refuse_exactly_the_blocked_address(auth: Auth):
    """Concurrent requests share calls to account (GetPermanentlyBlockedEmails): each still gets
    its own answer, the blocked address (in any letter case) is refused and the others are not."""
    blocked = new_address("blocked-among")
    await block_user(auth, (await auth.session(await auth.sign_in(blocked))).user_id)
    others = [new_address("among") for _ in range(30)]
    asked = [*others[:15], blocked.upper(), *others[15:]]
    outcomes = await asyncio.gather(*(auth.send(address) for address in asked), return_exceptions=True)
    refused = [address for address, outcome in zip(asked, outcomes, strict=True) if isinstance(outcome, Exception)]
    assert refused == [blocked.upper()]
    assert outcomes[15].code() == INVALID and "cannot be used to sign in" in outcomes[15].details()
    for address in others:
        await auth.neighbours.wait_for_messages(address)


class AccountBeforeBatchChecks(account_pb2_grpc.AccountServiceServicer):
    """An account service from before GetPermanentlyBlockedEmails (the generated base class answers
    it UNIMPLEMENTED) whose GetAccountByEmail is the real account's, passed through."""

    def __init__(self, real: account_pb2_grpc.AccountServiceStub) -> None:
        self.real = real

    async def GetAccountByEmail(self, request, context):  # noqa: N802 (gRPC method name)
        try:
            return await self.real.GetAccountByEmail(request)
        except grpc.aio.AioRpcError as error:
            await context.abort(error.code(), error.details())


async def test_an_account_service_without_the_batch_check_is_asked_one_address_at_a_time(start_auth, neighbours):
    """A rolling update may meet an older account: the block check falls back to GetAccountByEmail."""
    server = grpc.aio.server()
    account_pb2_grpc.add_AccountServiceServicer_to_server(
        AccountBeforeBatchChecks(account_pb2_grpc.AccountServiceStub(neighbours.account.channel)), server
    )
    older = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(older)
    await server.start()
    try:
        async with start_auth() as auth:
            blocked = new_address("blocked-older")
            await block_user(auth, (await auth.session(await auth.sign_in(blocked))).user_id)
        async with start_auth(account_grpc_target=older) as auth:
            error = await rpc_error(auth.send(blocked))
            assert error.code() == INVALID and "cannot be used to sign in" in error.details()
            assert await auth.send(new_address("fine-older"))
    finally:
        await server.stop(None)


async def test_the_sweep_deletes_only_rows_past_their_window(auth: Auth):
    from galaxy_kit.db import create_engine, session_factory

    from galaxy_auth.janitor import Janitor

    # Default windows (15 minutes for challenges, 5 for admin attempts); rows are aged by
    # moving their stored times, so the outcome does not depend on how fast this machine is.
    old, recent, fresh = [await auth.send(new_address("sweep")) for _ in range(3)]
    await auth.execute(
        "UPDATE auth.login_challenges SET created_at = now() - interval '2 hours',"
        " expires_at = now() - interval '1 hour' WHERE challenge_id = :id", id=old,
    )
    await auth.execute(  # expired, but still inside its address's rate window: it still counts
        "UPDATE auth.login_challenges SET created_at = now() - interval '11 minutes',"
        " expires_at = now() - interval '1 minute' WHERE challenge_id = :id", id=recent,
    )
    quiet, busy = new_address("sweep-quiet"), new_address("sweep-busy")
    await auth.send(quiet)
    await auth.send(busy)
    await auth.execute(  # no request inside the 15-minute window: the address's row limits nothing
        "UPDATE auth.login_code_requests SET last_requested_at = now() - interval '16 minutes',"
        " requested_at = ARRAY[now() - interval '16 minutes'] WHERE email_key = :key", key=quiet,
    )
    tag = new_address("sweep-attempt")
    await auth.execute(
        "INSERT INTO auth.admin_check_attempts (attempt_id, scope, key, attempted_at) VALUES"
        " (gen_random_uuid(), 'username', :tag, now() - interval '6 minutes'),"
        " (gen_random_uuid(), 'username', :tag || '-fresh', now() - interval '4 minutes')", tag=tag,
    )
    engine = create_engine(auth.settings.database_dsn(), pool_size=1, max_overflow=0)
    try:
        janitor = Janitor(
            session_factory(engine),
            challenges_keep_for=timedelta(seconds=auth.settings.auth_code_rate_window_seconds),
            attempts_keep_for=timedelta(seconds=auth.settings.admin_throttle_window_seconds),
        )
        deleted = await janitor.sweep()
    finally:
        await engine.dispose()
    assert deleted["login_challenges"] >= 1 and deleted["admin_check_attempts"] >= 1
    assert deleted["login_code_requests"] >= 1
    requests = await auth.fetch(
        "SELECT email_key FROM auth.login_code_requests WHERE email_key IN (:a, :b)", a=quiet, b=busy
    )
    assert [row["email_key"] for row in requests] == [busy]
    left = {str(r["challenge_id"]) for r in await auth.fetch(
        "SELECT challenge_id FROM auth.login_challenges WHERE challenge_id IN (:a, :b, :c)",
        a=old, b=recent, c=fresh,
    )}
    assert left == {recent, fresh}
    attempts = await auth.fetch(
        "SELECT key FROM auth.admin_check_attempts WHERE key IN (:a, :b)", a=tag, b=tag + "-fresh"
    )
    assert [row["key"] for row in attempts] == [tag + "-fresh"]
