"""The login-mail queue (docs/auth.md, "The login-mail queue"): codes reach mail after the commit.

The frozen-mail test runs the real mail service as its own process and stops
it with SIGSTOP: a mail service that accepts connections but never answers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
import uuid

from galaxy_devstack.testing import create_database
from galaxy_kit.testing import fast_channel, free_port, wait_until_serving

from auth_testkit import Auth, mail_process, new_address
from galaxy_auth.domain import codes

#: The deadline of auth's calls to mail in the frozen-mail test.
MAIL_DEADLINE_SECONDS = 4.0
#: A session lookup is a few milliseconds of work. When sign-ins held pooled connections across
#: the mail call, a lookup waited for the mail deadline; half of it is a wide bound for a loaded machine.
LOOKUP_LIMIT_SECONDS = MAIL_DEADLINE_SECONDS / 2
#: More than the pool's 20 connections (pool 10 + overflow 10).
FROZEN_SIGN_INS = 30


async def timed(call) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def queued(auth: Auth, challenge_ids: list[str]) -> int:
    rows = await auth.fetch(
        "SELECT count(*) AS n FROM auth.login_code_mail WHERE challenge_id = ANY(CAST(:ids AS uuid[]))",
        ids=challenge_ids,
    )
    return rows[0]["n"]


async def test_a_code_waits_sealed_until_mail_takes_it_and_another_replica_delivers_it(start_auth):
    address = new_address("queued")
    unreachable = f"127.0.0.1:{free_port()}"
    async with start_auth(mail_grpc_target=unreachable, auth_downstream_timeout_seconds=1.0) as auth:
        challenge_id = await auth.send(address)  # accepted although mail is down
        [row] = await auth.fetch(
            "SELECT m.sealed_code, c.code_hash FROM auth.login_code_mail m"
            " JOIN auth.login_challenges c USING (challenge_id) WHERE challenge_id = :id",
            id=challenge_id,
        )
        # Only the sealed code is stored; it opens with the pepper's seal key to the code that
        # matches the challenge's digest.
        code = codes.unseal(auth.settings.code_seal_key(), uuid.UUID(challenge_id), row["sealed_code"])
        assert code.encode() not in row["sealed_code"]
        assert codes.matches(auth.settings.code_key(), uuid.UUID(challenge_id), row["code_hash"], code)
        deadline = time.monotonic() + 30
        while not (await auth.fetch(
            "SELECT 1 FROM auth.login_code_mail WHERE challenge_id = :id AND attempts >= 1"
            " AND last_error IS NOT NULL", id=challenge_id,
        )):
            assert time.monotonic() < deadline, "the failed try was not recorded"
            await asyncio.sleep(0.1)
    assert auth.neighbours.messages_to(address) == []
    # Another replica, with mail reachable, drains what the first one could not send.
    async with start_auth(auth_login_mail_poll_interval_seconds=0.2) as other:
        assert await other.neighbours.code_for(address) == code
        deadline = time.monotonic() + 30
        while await queued(other, [challenge_id]):
            assert time.monotonic() < deadline, "the sent code stayed in the queue"
            await asyncio.sleep(0.1)
        assert await other.session(await other.confirm(challenge_id, code))


async def test_a_queued_code_whose_challenge_expired_is_dropped_not_sent(start_auth):
    address = new_address("expired-queued")
    unreachable = f"127.0.0.1:{free_port()}"
    async with start_auth(mail_grpc_target=unreachable, auth_downstream_timeout_seconds=1.0) as auth:
        challenge_id = await auth.send(address)
    await auth.execute(
        "UPDATE auth.login_challenges SET expires_at = now() - interval '1 second' WHERE challenge_id = :id",
        id=challenge_id,
    )
    async with start_auth(auth_login_mail_poll_interval_seconds=0.2) as other:
        deadline = time.monotonic() + 30
        while await queued(other, [challenge_id]):
            assert time.monotonic() < deadline, "the expired code stayed in the queue"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrong delivery to show up
        assert other.neighbours.messages_to(address) == []


async def test_sign_in_is_accepted_while_mail_is_frozen_and_codes_arrive_once_it_resumes(
    start_auth, neighbours, postgres_cluster, smtp_server, kafka_bootstrap, tmp_path
):
    mail_dsn = create_database(postgres_cluster, f"auth_frozen_mail_{uuid.uuid4().hex[:12]}")
    with mail_process(
        database_url=mail_dsn, kafka_bootstrap=kafka_bootstrap, smtp_host=smtp_server.host,
        smtp_port=smtp_server.port, log_path=tmp_path / "mail.log",
    ) as (process, target):
        async with fast_channel(target) as channel:
            await wait_until_serving(channel, timeout=60)
        async with start_auth(
            mail_grpc_target=target,
            auth_downstream_timeout_seconds=MAIL_DEADLINE_SECONDS,
            auth_login_mail_poll_interval_seconds=0.2,
            auth_login_mail_max_backoff_seconds=1.0,
        ) as auth:
            device_session = await auth.sign_in(new_address("before-freeze"))
            addresses = [new_address("frozen") for _ in range(FROZEN_SIGN_INS)]
            os.kill(process.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                challenge_ids, lookups = await asyncio.gather(
                    asyncio.gather(*(auth.send(address) for address in addresses)),
                    asyncio.gather(*(timed(auth.session(device_session)) for _ in range(10))),
                )
                # Stay frozen past the mail call's deadline, so tries time out and get retried,
                # and keep looking the session up meanwhile.
                while time.monotonic() - started < MAIL_DEADLINE_SECONDS + 2.0:
                    lookups.append(await timed(auth.session(device_session)))
                    await asyncio.sleep(0.05)
                assert all(not auth.neighbours.messages_to(address) for address in addresses)
                assert await queued(auth, challenge_ids) == FROZEN_SIGN_INS
            finally:
                os.kill(process.pid, signal.SIGCONT)
            assert max(lookups) < LOOKUP_LIMIT_SECONDS, (max(lookups), statistics.median(lookups))
            # Every accepted request's code arrives, exactly once, and works.
            for address in addresses:
                await auth.neighbours.wait_for_messages(address)
            code = await auth.neighbours.code_for(addresses[0])
            assert await auth.session(await auth.confirm(challenge_ids[0], code))
            deadline = time.monotonic() + 30
            while await queued(auth, challenge_ids):
                assert time.monotonic() < deadline, "sent codes stayed in the queue"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # room for a duplicate to show up, were there one
            assert [len(auth.neighbours.messages_to(address)) for address in addresses] == [1] * FROZEN_SIGN_INS



async def test_codes_asked_for_together_reach_mail_in_fewer_calls_and_each_arrives_once(auth):
    """Codes that arrive while a call to mail is under way go together in the next one
    (EnqueueDeliveries). Each call is one statement in mail, and every delivery one statement
    stores shares its `created_at` (the transaction's time): fewer distinct times than codes
    means fewer calls than codes."""
    addresses = [new_address("together") for _ in range(40)]
    challenge_ids = await asyncio.gather(*(auth.send(address) for address in addresses))
    for address in addresses:
        await auth.neighbours.wait_for_messages(address)
    [row] = await auth.fetch(
        "SELECT count(*) AS deliveries, count(DISTINCT created_at) AS statements FROM mail.deliveries"
        " WHERE idempotency_key = ANY(CAST(:ids AS text[]))",
        ids=challenge_ids,
    )
    assert row["deliveries"] == len(addresses)
    assert row["statements"] < len(addresses)
    await asyncio.sleep(1.0)  # room for a duplicate to show up, were there one
    assert [len(auth.neighbours.messages_to(address)) for address in addresses] == [1] * len(addresses)
    code = await auth.neighbours.code_for(addresses[-1])
    assert await auth.session(await auth.confirm(challenge_ids[-1], code))
