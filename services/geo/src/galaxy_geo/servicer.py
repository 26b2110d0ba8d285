"""GeoService over gRPC: translate messages, call the domain. Nothing else lives here."""

from __future__ import annotations

from datetime import UTC

import grpc
from galaxy.geo.v1 import geo_pb2, geo_pb2_grpc
from galaxy_kit.db import Reads
from galaxy_kit.proto import timestamp
from google.protobuf.empty_pb2 import Empty

from galaxy_geo.domain import reading
from galaxy_geo.domain.counting import Counting, Sighting
from galaxy_geo.domain.ports import AccountDirectory

Context = grpc.aio.ServicerContext
#: Counts are int32 in the contract (docs/architecture.md, "Decisions"); larger ones read as cap.
_INT32_MAX = 2**31 - 1


def _sighting(
    message: geo_pb2.ClientAddressObservation | geo_pb2.ObserveClientAddressRequest,
) -> Sighting:
    observed_at = None
    if isinstance(message, geo_pb2.ClientAddressObservation) and message.HasField("observed_at"):
        observed_at = message.observed_at.ToDatetime(tzinfo=UTC)
    return Sighting(message.user_id, message.client_address, observed_at)


class GeoServicer(geo_pb2_grpc.GeoServiceServicer):
    def __init__(self, *, counting: Counting, reads: Reads, accounts: AccountDirectory) -> None:
        self._counting = counting
        self._reads = reads
        self._accounts = accounts

    async def ObserveClientAddresses(
        self, request: geo_pb2.ObserveClientAddressesRequest, context: Context
    ):
        outcome = await self._counting.observe([_sighting(o) for o in request.observations])
        return geo_pb2.ObserveClientAddressesResponse(
            counted=outcome.counted, unresolved=outcome.unresolved, rejected=outcome.rejected
        )

    async def ObserveClientAddress(
        self, request: geo_pb2.ObserveClientAddressRequest, context: Context
    ):
        await self._counting.observe([_sighting(request)])
        return Empty()

    async def AdminGeoListUserCountries(
        self, request: geo_pb2.AdminGeoListUserCountriesRequest, context: Context
    ):
        found = await reading.list_countries(
            reads=self._reads, accounts=self._accounts, user_id=request.user_id
        )
        return geo_pb2.GeoCountryCounterList(
            user_id=found.user_id,
            items=[
                geo_pb2.GeoCountryCounter(
                    country=c.country,
                    count=min(c.count, _INT32_MAX),
                    last_seen_at=timestamp(c.last_seen_at),
                )
                for c in found.counters
            ],
        )
