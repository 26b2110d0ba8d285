"""Wiring of the mail service: its servicer, its workers, its migrations."""

from __future__ import annotations

from pathlib import Path

from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.service import ServiceContext, ServiceDefinition

from galaxy_mail.servicer import MailServicer
from galaxy_mail.settings import MailSettings


def build(context: ServiceContext) -> None:
    mail_pb2_grpc.add_MailServiceServicer_to_server(MailServicer(), context.server)


SERVICE = ServiceDefinition(
    name="mail",
    settings_factory=MailSettings,
    migrations=Path(__file__).parent / "migrations",
    grpc_service_names=[mail_pb2.DESCRIPTOR.services_by_name["MailService"].full_name],
    build=build,
)
