"""Wiring of the auth service: servicer, clients of account and mail, first administrator, migrations."""

from __future__ import annotations

from datetime import timedelta

from galaxy.auth.v1 import auth_pb2_grpc
from galaxy_kit.events import IdempotentConsumer, OutboxRelay
from galaxy_kit.grpc_client import insecure_channel
from galaxy_kit.logging import get_logger
from galaxy_kit.service import ServiceContext, define_service

from galaxy_auth.clients import GrpcAccountDirectory, GrpcMailSender
from galaxy_auth.domain import account_lifecycle
from galaxy_auth.domain.admin_accounts import (
    ADMINS_TOPIC,
    AdminCredentialChecker,
    AdminThrottle,
    BcryptPool,
    ThrottlePolicy,
    bootstrap_first_admin,
)
from galaxy_auth.domain.login_mail import LoginMailDispatcher, LoginMailPolicy
from galaxy_auth.domain.sessions import SESSIONS_TOPIC
from galaxy_auth.domain.sign_in import SignInPolicy
from galaxy_auth.janitor import Janitor
from galaxy_auth.repository.tables import inbox, outbox
from galaxy_auth.servicer import AuthServicer
from galaxy_auth.settings import AuthSettings

log = get_logger(__name__)


async def build(context: ServiceContext) -> None:
    settings = context.settings
    assert isinstance(settings, AuthSettings)
    await bootstrap_first_admin(
        context.sessions,
        username=settings.admin_username,
        password=settings.admin_password.get_secret_value(),
        rounds=settings.admin_bcrypt_rounds,
    )
    bcrypt_pool = BcryptPool(workers=settings.admin_bcrypt_workers, rounds=settings.admin_bcrypt_rounds)
    account_channel = insecure_channel(settings.account_grpc_target)
    mail_channel = insecure_channel(settings.mail_grpc_target)

    async def close_channels() -> None:
        await account_channel.close()
        await mail_channel.close()
        bcrypt_pool.shutdown()

    context.on_shutdown.append(close_channels)
    login_mail = LoginMailDispatcher(
        context.reads,
        GrpcMailSender(
            mail_channel,
            timeout=settings.auth_downstream_timeout_seconds,
            template_id=settings.auth_login_code_template,
        ),
        LoginMailPolicy(
            seal_key=settings.code_seal_key(),
            call_timeout=settings.auth_downstream_timeout_seconds,
            poll_interval=settings.auth_login_mail_poll_interval_seconds,
            max_backoff=settings.auth_login_mail_max_backoff_seconds,
        ),
    )
    # Stopped before the channels close (workers stop first): in-flight dispatches finish or time out.
    context.workers.append(login_mail)
    servicer = AuthServicer(
        sessions=context.sessions,
        admin_checker=AdminCredentialChecker(
            context.sessions,
            reads=context.reads,
            bcrypt_pool=bcrypt_pool,
            throttle=AdminThrottle(context.sessions, ThrottlePolicy.from_settings(settings)),
        ),
        admin_bcrypt_rounds=settings.admin_bcrypt_rounds,
        policy=SignInPolicy.from_settings(settings),
        accounts=GrpcAccountDirectory(account_channel, timeout=settings.auth_downstream_timeout_seconds),
        login_mail=login_mail,
        reads=context.reads,
        last_seen_resolution=timedelta(seconds=settings.auth_session_last_seen_resolution_seconds),
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, context.server)
    context.workers.append(
        Janitor(
            context.sessions,
            challenges_keep_for=timedelta(seconds=settings.auth_code_rate_window_seconds),
            attempts_keep_for=timedelta(seconds=settings.admin_throttle_window_seconds),
        )
    )
    if settings.auth_relay_enabled:
        # DeviceSessionRevoked and AdminCredentialsChanged events, read by every edge to evict
        # its cached session lookups and admin credential checks.
        # One active publisher per outbox across replicas (advisory lock); see galaxy_kit.events.outbox.
        context.workers.append(
            OutboxRelay(
                context.engine,
                outbox,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topics=[SESSIONS_TOPIC, ADMINS_TOPIC],
                poll_interval=settings.auth_relay_poll_interval_seconds,
                max_attempts=settings.outbox_max_attempts,
                name="auth.outbox",
            )
        )
    if settings.auth_lifecycle_consumer_enabled:
        # Deleted or permanently blocked accounts lose every session (docs/account.md, "Deletion").
        context.workers.append(
            IdempotentConsumer(
                account_lifecycle.TOPIC,
                group_id=settings.auth_lifecycle_consumer_group,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                sessions=context.sessions,
                inbox=inbox,
                handler=account_lifecycle.handle,
                consumer_options=settings.lifecycle_consumer_options(),
            )
        )


SERVICE = define_service("auth", settings_factory=AuthSettings, build=build)
