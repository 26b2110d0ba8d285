"""The edge's geo observer against the real geo service (and the real account behind it), real
gRPC, real PostgreSQL: what happens while geo is away, when geo refuses a batch, and at shutdown.
The path through the whole edge is in tests/suite/test_geo.py."""

from __future__ import annotations

import asyncio
import uuid

from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.geo.v1 import geo_pb2, geo_pb2_grpc
from galaxy_account.app import SERVICE as ACCOUNT
from galaxy_account.settings import AccountSettings
from galaxy_edge.downstream import Downstreams, find_rpc
from galaxy_edge.geo_observer import GEO_OBSERVE_BATCH, GeoObserver
from galaxy_geo.app import SERVICE as GEO
from galaxy_geo.settings import GeoSettings
from galaxy_kit.testing import free_port, running_service

WAIT_SECONDS = 60.0


def forwarded(value: str) -> list[tuple[bytes, bytes]]:
    """Raw ASGI headers of a user request carrying X-Forwarded-For."""
    return [(b"x-user-id", b"..."), (b"x-forwarded-for", value.encode()), (b"accept", b"*/*")]


async def eventually(check, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.05)


async def observer_for(geo_target: str, **options) -> tuple[Downstreams, GeoObserver]:
    downstreams = Downstreams({"geo": geo_target}, timeout=2.0)
    await downstreams.open()
    rpc = find_rpc(*GEO_OBSERVE_BATCH)
    assert rpc is not None
    settings = {"queue_max": 100, "batch_max": 10, "flush_interval": 0.05, **options}
    return downstreams, GeoObserver(downstreams, rpc, **settings)


async def new_user(account) -> str:
    reply = await account_pb2_grpc.AccountServiceStub(account.channel).EnsureAccountByEmail(
        account_pb2.EnsureAccountByEmailRequest(
            email=f"obs-{uuid.uuid4().hex[:10]}@example.test",
            preferred_language="en",
            time_zone="UTC",
        )
    )
    return reply.user_id


async def counts(geo, user_id: str) -> dict[str, int]:
    reply = await geo_pb2_grpc.GeoServiceStub(geo.channel).AdminGeoListUserCountries(
        geo_pb2.AdminGeoListUserCountriesRequest(admin_username="root", user_id=user_id)
    )
    return {item.country: item.count for item in reply.items}


def geo_settings(dsn: str, kafka: str, account_target: str, **overrides) -> GeoSettings:
    return GeoSettings(
        database_url=dsn,
        kafka_bootstrap_servers=kafka,
        account_grpc_target=account_target,
        geo_lifecycle_consumer_enabled=False,
        **overrides,
    )


async def test_sightings_wait_for_an_absent_geo_and_arrive_when_it_comes(
    fresh_database_dsn, kafka_bootstrap
):
    account_settings = AccountSettings(
        database_url=fresh_database_dsn,
        kafka_bootstrap_servers=kafka_bootstrap,
        account_relay_enabled=False,
    )
    async with running_service(ACCOUNT, account_settings) as account:
        user = await new_user(account)
        geo_target = f"127.0.0.1:{free_port()}"
        downstreams, observer = await observer_for(geo_target)
        observer.start()
        try:
            for i in range(25):
                address = "81.2.69.142, 10.0.0.1" if i % 5 == 0 else "5.9.0.1"
                observer.observe(user, forwarded(address))
            observer.observe(user, [(b"x-user-id", b"...")])  # no header: nothing queued
            observer.observe(user, forwarded(""))
            await asyncio.sleep(1.0)  # several failed rounds against nothing listening
            assert (observer.sent, observer.pending, observer.dropped) == (0, 25, 0)
            settings = geo_settings(
                fresh_database_dsn, kafka_bootstrap, account.address, grpc_listen_addr=geo_target
            )
            async with running_service(GEO, settings) as geo:
                await eventually(lambda: observer.sent == 25, "the queue never reached geo")
                assert observer.pending == 0
                assert await counts(geo, user) == {"DE": 20, "GB": 5}
                await observer.stop(grace=5.0)
        finally:
            await downstreams.close()
        assert (observer.dropped, observer.refused, observer.lost_at_shutdown) == (0, 0, 0)


async def test_a_full_queue_drops_and_a_refused_batch_is_not_retried(
    fresh_database_dsn, kafka_bootstrap
):
    account_settings = AccountSettings(
        database_url=fresh_database_dsn,
        kafka_bootstrap_servers=kafka_bootstrap,
        account_relay_enabled=False,
    )
    async with running_service(ACCOUNT, account_settings) as account:
        settings = geo_settings(
            fresh_database_dsn, kafka_bootstrap, account.address, geo_max_batch_observations=5
        )
        async with running_service(GEO, settings) as geo:
            user = await new_user(account)
            # Batches of 10 against a geo that takes at most 5: every batch is refused.
            downstreams, observer = await observer_for(
                geo.address, queue_max=12, batch_max=10, flush_interval=3600.0
            )
            try:
                for _ in range(15):  # not started: nothing leaves, the queue holds 12
                    observer.observe(user, forwarded("5.9.0.1"))
                assert (observer.pending, observer.dropped) == (12, 3)
                await observer.stop(grace=5.0)  # sends 10 (refused), then 2 (taken)
            finally:
                await downstreams.close()
            assert (observer.sent, observer.refused, observer.lost_at_shutdown) == (2, 10, 0)
            assert await counts(geo, user) == {"DE": 2}


async def test_what_cannot_be_sent_within_the_grace_is_counted_as_lost():
    downstreams, observer = await observer_for(f"127.0.0.1:{free_port()}")
    try:
        for _ in range(7):
            observer.observe(str(uuid.uuid4()), forwarded("5.9.0.1"))
        begun = asyncio.get_running_loop().time()
        await observer.stop(grace=1.0)
        took = asyncio.get_running_loop().time() - begun
    finally:
        await downstreams.close()
    assert (observer.sent, observer.lost_at_shutdown, observer.pending) == (0, 7, 0)
    assert took < 10.0  # bounded by the grace (plus one call's deadline), not endless retries
