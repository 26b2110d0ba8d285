"""Notify's calls to account (the recipient's address and language) and mail (the e-mail)."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.downstream import downstream_failure


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str


class Mailer:
    """Looks the user up at account and enqueues a templated mail (mail deduplicates the key)."""

    def __init__(self, account_channel: grpc.aio.Channel, mail_channel: grpc.aio.Channel, *,
                 timeout: float) -> None:
        self._accounts = account_pb2_grpc.AccountServiceStub(account_channel)
        self._mail = mail_pb2_grpc.MailServiceStub(mail_channel)
        self._timeout = timeout

    async def recipient(self, user_id: str) -> Recipient | None:
        """The user's address and language; None when account does not know the user (any more)."""
        try:
            reply = await self._accounts.InternalUsersGetAccountInternal(
                account_pb2.InternalUsersGetAccountInternalRequest(user_id=user_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise downstream_failure("account", "InternalUsersGetAccountInternal", error) from None
        return Recipient(email=reply.account.email, locale=reply.account.preferred_language or "en")

    async def send(self, *, idempotency_key: str, template_id: str, recipient: Recipient,
                   variables: dict[str, str]) -> None:
        try:
            await self._mail.EnqueueDelivery(mail_pb2.EnqueueDeliveryRequest(
                idempotency_key=idempotency_key, template_id=template_id, recipient=recipient.email,
                locale=recipient.locale, variables=variables,
            ), timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise downstream_failure("mail", "EnqueueDelivery", error) from None
