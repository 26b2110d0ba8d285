"""Geo over real gRPC with the real account service: counting, the admin view, the declared-country
rule, deletion through the real lifecycle topic, and concurrent batches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from galaxy.account.v1 import account_pb2
from galaxy.geo.v1 import geo_pb2
from galaxy_kit.proto import timestamp

# Addresses whose registered country is stable (registry allocations of long standing).
DE = ("5.9.0.1", "217.160.0.1", "2a01:4f8::1")
GB = ("81.2.69.142",)
US = ("8.8.8.8", "2001:4860:4860::8888")
WAIT_SECONDS = 60.0


def seen(
    user_id: str, address: str, at: datetime | None = None
) -> geo_pb2.ClientAddressObservation:
    message = geo_pb2.ClientAddressObservation(user_id=user_id, client_address=address)
    if at is not None:
        message.observed_at.CopyFrom(timestamp(at))
    return message


async def observe(geo, *observations) -> geo_pb2.ObserveClientAddressesResponse:
    return await geo.stub.ObserveClientAddresses(
        geo_pb2.ObserveClientAddressesRequest(observations=observations)
    )


async def countries(geo, user_id: str) -> dict[str, int]:
    reply = await geo.stub.AdminGeoListUserCountries(
        geo_pb2.AdminGeoListUserCountriesRequest(admin_username="root", user_id=user_id)
    )
    return {item.country: item.count for item in reply.items}


async def test_a_batch_counts_each_user_per_country(geo):
    ann, bob = await geo.user("ann"), await geo.user("bob")
    early, late = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    reply = await observe(
        geo,
        seen(ann, DE[0], early),
        seen(ann, DE[1], late),
        seen(ann, DE[2], early),
        seen(ann, GB[0], early),
        seen(bob, US[0]),
        seen(bob, f" {US[1]} "),
    )
    assert (reply.counted, reply.unresolved, reply.rejected) == (6, 0, 0)
    listed = await geo.stub.AdminGeoListUserCountries(
        geo_pb2.AdminGeoListUserCountriesRequest(admin_username="root", user_id=ann)
    )
    assert listed.user_id == ann
    assert [(i.country, i.count) for i in listed.items] == [("DE", 3), ("GB", 1)]  # most seen first
    assert listed.items[0].last_seen_at.ToDatetime(tzinfo=UTC) == late
    assert await countries(geo, bob) == {"US": 2}
    await observe(geo, seen(ann, GB[0]), seen(ann, GB[0]))
    assert await countries(geo, ann) == {"DE": 3, "GB": 3}


async def test_the_single_observation_rpc_counts_too(geo):
    ann = await geo.user("ann")
    await geo.stub.ObserveClientAddress(
        geo_pb2.ObserveClientAddressRequest(user_id=ann, client_address=GB[0])
    )
    assert await countries(geo, ann) == {"GB": 1}


async def test_addresses_without_a_country_and_malformed_input_count_nothing(geo):
    ann = await geo.user("ann")
    reply = await observe(
        geo,
        seen(ann, "10.0.0.1"),
        seen(ann, "::1"),
        seen(ann, "203.0.113.5"),  # private, loopback, documentation
        seen(ann, "not-an-address"),
        seen(ann, ""),
        seen("not-a-uuid", DE[0]),
    )
    assert (reply.counted, reply.unresolved, reply.rejected) == (0, 3, 3)
    assert await countries(geo, ann) == {}  # a known user never seen anywhere: 200, empty
    assert await geo.sql("SELECT * FROM geo.country_counters") == []


async def test_proxy_forms_of_an_address_count_as_the_address(geo):
    ann = await geo.user("ann")
    reply = await observe(
        geo,
        seen(ann, "[2a01:4f8::1]:443"),
        seen(ann, "81.2.69.142:5000"),
        seen(ann, "::ffff:8.8.8.8"),
    )
    assert reply.counted == 3
    assert await countries(geo, ann) == {"DE": 1, "GB": 1, "US": 1}


async def test_an_unknown_user_is_not_found_and_a_bad_id_invalid(geo):
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await countries(geo, str(uuid.uuid4()))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await countries(geo, "nope")
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_batch_over_the_cap_is_refused_and_counts_nothing(start_geo):
    async with start_geo(geo_max_batch_observations=3) as geo:
        ann = await geo.user("ann")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await observe(geo, *[seen(ann, DE[0])] * 4)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (await observe(geo, *[seen(ann, DE[0])] * 3)).counted == 3
        assert await countries(geo, ann) == {"DE": 3}


async def test_concurrent_batches_of_the_same_users_lose_no_count(geo):
    ann, bob = await geo.user("ann"), await geo.user("bob")
    batches = [
        [seen(ann if (b + i) % 2 else bob, (DE + GB + US)[(b * 7 + i) % 6]) for i in range(60)]
        for b in range(10)
    ]
    replies = await asyncio.gather(*(observe(geo, *batch) for batch in batches))
    assert sum(r.counted for r in replies) == 600
    expected: dict[tuple[str, str], int] = {}
    for batch in batches:
        for o in batch:
            country = "DE" if o.client_address in DE else "GB" if o.client_address in GB else "US"
            expected[(o.user_id, country)] = expected.get((o.user_id, country), 0) + 1
    for user in (ann, bob):
        assert await countries(geo, user) == {c: n for (u, c), n in expected.items() if u == user}


async def test_a_user_seen_mostly_elsewhere_is_reported_to_account(start_geo):
    async with start_geo(geo_declared_min_observations=10, geo_declared_min_share=0.6) as geo:
        ann = await geo.user("ann")
        await observe(geo, *[seen(ann, DE[0])] * 9)
        assert await geo.declared_country(ann) is None  # 9 < 10 sightings: no verdict yet
        await observe(geo, seen(ann, DE[1]))
        assert await geo.declared_country(ann) == "DE"
        await observe(geo, *[seen(ann, GB[0])] * 14)  # GB 14 of 24 = 58 %: below the share
        assert await geo.declared_country(ann) == "DE"
        await observe(geo, seen(ann, GB[0]))  # 15 of 25 = 60 %
        assert await geo.declared_country(ann) == "GB"
        assert [tuple(r) for r in await geo.sql("SELECT reported_country FROM geo.users")] == [
            ("GB",)
        ]


async def test_countries_not_seen_within_the_window_do_not_decide(start_geo):
    async with start_geo(geo_declared_min_observations=5, geo_declared_window_days=30) as geo:
        ann = await geo.user("ann")
        long_ago = datetime.now(UTC) - timedelta(days=90)
        await observe(geo, *[seen(ann, US[0], long_ago)] * 50)
        assert await geo.declared_country(ann) is None  # US is outside the window
        await observe(geo, *[seen(ann, GB[0])] * 5)
        assert await geo.declared_country(ann) == "GB"


async def test_deletion_drops_the_counters_and_later_sightings_count_nothing(start_geo):
    async with start_geo(geo_lifecycle_consumer_enabled=True) as geo:
        ann, bob = await geo.user("ann"), await geo.user("bob")
        await observe(geo, seen(ann, DE[0]), seen(ann, GB[0]), seen(bob, US[0]))
        await geo.account.UserAccountDelete(account_pb2.UserAccountDeleteRequest(user_id=ann))
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while await geo.sql(
            "SELECT 1 FROM geo.country_counters WHERE user_id = :u", u=uuid.UUID(ann)
        ):
            assert asyncio.get_running_loop().time() < deadline, "the deletion never reached geo"
            await asyncio.sleep(0.1)
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await countries(geo, ann)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
        late = await observe(
            geo, seen(ann, DE[0]), seen(bob, US[1])
        )  # still queued at an edge, say
        assert (late.counted, late.rejected) == (1, 1)
        with pytest.raises(grpc.aio.AioRpcError):
            await countries(geo, ann)
        assert await countries(geo, bob) == {"US": 2}
        # Applied once: the broker is shared with other tests, so count only ann's deletion event.
        applied = await geo.sql(
            "SELECT count(*) FROM geo.inbox i JOIN account.outbox o USING (event_id) WHERE o.key = :u",
            u=ann,
        )
        assert applied[0][0] == 1


async def test_a_full_batch_of_distinct_users_and_countries_counts_in_one_call(geo):
    """The largest batch allowed, every sighting its own counter: one upsert within the driver's
    bind-parameter limit."""
    users = [str(uuid.uuid4()) for _ in range(geo.settings.geo_max_batch_observations // 2)]
    batch = [seen(u, address) for u in users for address in (DE[0], US[0])]
    assert len(batch) == geo.settings.geo_max_batch_observations
    reply = await observe(geo, *batch)
    assert reply.counted == len(batch)
    rows = await geo.sql("SELECT count(*), sum(count) FROM geo.country_counters")
    assert tuple(rows[0]) == (len(batch), len(batch))
