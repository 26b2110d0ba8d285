"""Wiring of the account service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_account.servicer import AccountServicer
from galaxy_account.settings import AccountSettings


def build(context: ServiceContext) -> None:
    account_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(), context.server)


SERVICE = ServiceDefinition(
    name="account",
    settings_factory=AccountSettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name],
    build=build,
)
