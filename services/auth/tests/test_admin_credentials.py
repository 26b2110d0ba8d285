"""Auth's administrator credential check, over real gRPC against a real database."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import bcrypt
import grpc
import pytest
import sqlalchemy as sa
from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy_kit.db import create_engine
from galaxy_kit.testing import running_service

from galaxy_auth.app import SERVICE
from galaxy_auth.domain import admin_accounts as admin_domain
from galaxy_auth.settings import AuthSettings

ADMIN = "root-admin"
PASSWORD = "correct horse battery staple"


def settings_for(dsn: str, **overrides) -> AuthSettings:
    # Cost 4 keeps the test quick; production uses 12 (see test_default_cost_is_12).
    values = dict(
        database_url=dsn, admin_username=ADMIN, admin_password=PASSWORD, admin_bcrypt_rounds=4,
        auth_code_pepper="test-pepper-" + "x" * 32, auth_lifecycle_consumer_enabled=False,
    )
    values.update(overrides)
    return AuthSettings(**values)


@pytest.fixture
async def auth(fresh_database_dsn):
    async with running_service(SERVICE, settings_for(fresh_database_dsn)) as service:
        yield service, auth_pb2_grpc.AuthServiceStub(service.channel)


async def check(stub, username, password):
    return await stub.CheckAdminCredentials(
        auth_pb2.CheckAdminCredentialsRequest(username=username, password=password)
    )


async def test_default_cost_is_12():
    assert AuthSettings(auth_code_pepper="p" * 32).admin_bcrypt_rounds == 12


async def test_first_admin_is_created_from_configuration(auth):
    _, stub = auth
    assert (await check(stub, ADMIN, PASSWORD)).username == ADMIN


@pytest.mark.parametrize(
    ("username", "password"),
    [(ADMIN, "wrong"), ("nobody", PASSWORD), (ADMIN, ""), ("", "")],
)
async def test_bad_credentials_are_unauthenticated(auth, username, password):
    _, stub = auth
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(stub, username, password)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert PASSWORD not in (raised.value.details() or "")


async def test_repeated_checks_do_not_pay_bcrypt_again(auth, monkeypatch):
    _, stub = auth
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(admin_domain.bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    for _ in range(5):
        await check(stub, ADMIN, PASSWORD)
    assert len(calls) == 1


async def test_disabled_and_reset_accounts_are_refused_despite_the_cache(auth):
    service, stub = auth
    await check(stub, ADMIN, PASSWORD)  # now cached
    engine = create_engine(service.settings.database_dsn())
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE auth.admin_accounts SET status = 'disabled'"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(stub, ADMIN, PASSWORD)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED

    new_hash = bcrypt.hashpw(b"another password", bcrypt.gensalt(rounds=4)).decode()
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE auth.admin_accounts SET status = 'active', password_hash = :h"), {"h": new_hash}
        )
    with pytest.raises(grpc.aio.AioRpcError):
        await check(stub, ADMIN, PASSWORD)
    assert (await check(stub, ADMIN, "another password")).username == ADMIN
    await engine.dispose()


async def test_last_used_at_is_recorded(auth):
    service, stub = auth
    await check(stub, ADMIN, PASSWORD)
    engine = create_engine(service.settings.database_dsn())
    async with engine.connect() as conn:
        used = (await conn.execute(sa.text("SELECT last_used_at FROM auth.admin_accounts"))).scalar_one()
    await engine.dispose()
    assert used is not None


async def test_bootstrap_never_replaces_an_existing_administrator(fresh_database_dsn):
    async with running_service(SERVICE, settings_for(fresh_database_dsn)):
        pass
    other = settings_for(fresh_database_dsn, admin_username="second", admin_password="other password")
    async with running_service(SERVICE, other) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        assert (await check(stub, ADMIN, PASSWORD)).username == ADMIN
        with pytest.raises(grpc.aio.AioRpcError):
            await check(stub, "second", "other password")


async def test_no_administrator_without_configuration(fresh_database_dsn):
    settings = settings_for(fresh_database_dsn, admin_username="", admin_password="")
    async with running_service(SERVICE, settings) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        with pytest.raises(grpc.aio.AioRpcError):
            await check(stub, "admin", "admin")


# ---- Timing, throttling, the bcrypt pool, single flight (docs/auth.md, "Administrator credentials") ----


def count_bcrypt(monkeypatch) -> list[int]:
    """Every bcrypt.checkpw the service runs (it runs in-process here) appends to the returned list."""
    calls: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(admin_domain.bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    return calls


async def timed_rejection(stub, username, password) -> float:
    started = time.perf_counter()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(stub, username, password)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    return time.perf_counter() - started


async def test_an_unknown_username_costs_what_a_wrong_password_costs_at_the_production_cost(
    fresh_database_dsn,
):
    settings = settings_for(fresh_database_dsn, admin_bcrypt_rounds=12)
    async with running_service(SERVICE, settings) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        # The first unknown name also makes the dummy hash (once, lazily): not part of the comparison.
        await timed_rejection(stub, "nobody-here", "a guess")
        unknown, wrong = [], []
        for round_ in range(5):  # interleaved, so load on the machine hits both series alike
            unknown.append(await timed_rejection(stub, "nobody-here", f"guess {round_}"))
            wrong.append(await timed_rejection(stub, ADMIN, f"guess {round_}"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 <= ratio <= 2.0, (unknown, wrong)
    assert statistics.median(wrong) > 0.05  # cost 12 really ran (cost 4 takes about a millisecond)


@pytest.fixture
async def throttled(fresh_database_dsn):
    """Auth with small limits: 3 failures per username, 5 per address (the defaults are 10 and 30)."""
    settings = settings_for(
        fresh_database_dsn, admin_throttle_username_failures=3, admin_throttle_address_failures=5
    )
    async with running_service(SERVICE, settings) as service:
        yield service, auth_pb2_grpc.AuthServiceStub(service.channel)


async def check_from(stub, username, password, address):
    return await stub.CheckAdminCredentials(
        auth_pb2.CheckAdminCredentialsRequest(username=username, password=password, client_address=address)
    )


async def rejected(call) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def age_attempts(service, interval: str) -> None:
    """Move every recorded attempt back in time (instead of sleeping through the window)."""
    engine = create_engine(service.settings.database_dsn())
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(f"UPDATE auth.admin_check_attempts SET attempted_at = attempted_at - interval '{interval}'")
            )
    finally:
        await engine.dispose()


async def test_failures_per_username_are_throttled_without_running_bcrypt(throttled, monkeypatch):
    service, stub = throttled
    for guess in range(3):
        await rejected(check_from(stub, ADMIN, f"guess {guess}", "198.51.100.1"))
    calls = count_bcrypt(monkeypatch)
    # Over the per-username limit: even the right password, even from another address, is refused
    # without bcrypt running.
    await rejected(check_from(stub, ADMIN, PASSWORD, "198.51.100.1"))
    await rejected(check_from(stub, ADMIN, PASSWORD, "198.51.100.2"))
    assert calls == []
    # Another username is not affected.
    await rejected(check_from(stub, "someone-else", "guess", "198.51.100.2"))
    assert len(calls) == 1
    # Refused attempts do not extend the lock-out: once the failures leave the window, it works.
    await age_attempts(service, "4 minutes")
    await rejected(check_from(stub, ADMIN, PASSWORD, "198.51.100.3"))
    await age_attempts(service, "2 minutes")
    assert (await check_from(stub, ADMIN, PASSWORD, "198.51.100.3")).username == ADMIN


async def test_failures_per_client_address_are_throttled(throttled, monkeypatch):
    _, stub = throttled
    for name in ("a-guess", "b-guess", "c-guess", "d-guess", "e-guess"):  # each name below its limit
        await rejected(check_from(stub, name, "guess", "203.0.113.9"))
    calls = count_bcrypt(monkeypatch)
    await rejected(check_from(stub, ADMIN, PASSWORD, "203.0.113.9"))
    assert calls == []
    # The same credentials from another address pass: the username was never guessed.
    assert (await check_from(stub, ADMIN, PASSWORD, "203.0.113.10")).username == ADMIN


async def test_32_concurrent_first_checks_run_bcrypt_once_and_all_succeed(auth, monkeypatch):
    service, stub = auth
    calls = count_bcrypt(monkeypatch)
    replies = await asyncio.gather(
        *(check_from(stub, ADMIN, PASSWORD, "192.0.2.1") for _ in range(32)), return_exceptions=True
    )
    assert [getattr(r, "username", r) for r in replies] == [ADMIN] * 32
    assert len(calls) == 1
    # A success leaves no attempt behind to count toward the throttle.
    engine = create_engine(service.settings.database_dsn())
    try:
        async with engine.connect() as conn:
            left = (await conn.execute(sa.text("SELECT count(*) FROM auth.admin_check_attempts"))).scalar_one()
    finally:
        await engine.dispose()
    assert left == 0


async def test_repeated_valid_checks_write_nothing(auth):
    service, stub = auth
    await check(stub, ADMIN, PASSWORD)
    engine = create_engine(service.settings.database_dsn())
    query = sa.text(
        # xmin changes with every new version of the row: any UPDATE shows.
        "SELECT (SELECT xmin::text FROM auth.admin_accounts WHERE username = :u),"
        " (SELECT count(*) FROM auth.admin_check_attempts)"
    )
    try:
        async with engine.connect() as conn:
            before = (await conn.execute(query, {"u": ADMIN})).one()
        for _ in range(20):
            await check(stub, ADMIN, PASSWORD)
        async with engine.connect() as conn:
            after = (await conn.execute(query, {"u": ADMIN})).one()
    finally:
        await engine.dispose()
    assert before == after


async def test_repeated_valid_checks_open_no_transaction(auth, monkeypatch):
    """The hot check is one prepared read outside any transaction (docs/auth.md): no BEGIN/COMMIT,
    no ORM session, so 32 connections of admin traffic do not queue on the unit-of-work pool."""
    _, stub = auth
    await check(stub, ADMIN, PASSWORD)  # verified once; last_used_at written now
    opened = []
    real = admin_domain.transaction
    monkeypatch.setattr(admin_domain, "transaction", lambda sessions: opened.append(1) or real(sessions))
    replies = await asyncio.gather(*(check(stub, ADMIN, PASSWORD) for _ in range(32)))
    assert [reply.username for reply in replies] == [ADMIN] * 32
    assert opened == []


async def test_a_flood_of_guesses_runs_at_most_the_pool_size_of_bcrypts_at_once(
    fresh_database_dsn, monkeypatch
):
    # Distinct wrong passwords (no single flight), under every throttling limit.
    settings = settings_for(fresh_database_dsn, admin_bcrypt_workers=2, admin_bcrypt_rounds=8)
    running, peak = [0], [0]
    lock = threading.Lock()
    real = bcrypt.checkpw

    def tracked(*args):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(*args)
        finally:
            with lock:
                running[0] -= 1

    async with running_service(SERVICE, settings) as service:
        stub = auth_pb2_grpc.AuthServiceStub(service.channel)
        monkeypatch.setattr(admin_domain.bcrypt, "checkpw", tracked)
        results = await asyncio.gather(
            *(check_from(stub, ADMIN, f"guess {n}", f"192.0.2.{n}") for n in range(8)), return_exceptions=True
        )
    assert all(isinstance(r, grpc.aio.AioRpcError) for r in results)
    assert 1 <= peak[0] <= 2  # the default executor would run up to min(32, cores + 4) at once
