"""Wiring of the auth service: its servicer, the first administrator, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.auth.v1 import auth_pb2, auth_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_auth.domain.admin_accounts import AdminCredentialChecker, bootstrap_first_admin
from galaxy_auth.servicer import AuthServicer
from galaxy_auth.settings import AuthSettings


async def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, AuthSettings)
    await bootstrap_first_admin(
        context.sessions,
        username=settings.admin_username,
        password=settings.admin_password,
        rounds=settings.admin_bcrypt_rounds,
    )
    servicer = AuthServicer(admin_checker=AdminCredentialChecker(context.sessions))
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, context.server)


SERVICE = ServiceDefinition(
    name="auth",
    settings_factory=AuthSettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name],
    build=build,
)
