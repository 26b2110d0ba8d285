"""gRPC clients of account and mail, as the domain's ports (domain/ports.py).

Failures are mapped by galaxy_kit.downstream: fail closed (down, too slow or
UNIMPLEMENTED → Unavailable, 503 at the edge), anything else INTERNAL.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.downstream import downstream_failure

from galaxy_auth.domain.ports import EnsuredAccount, LoginCodeMail

PERMANENT_BLOCK = "permanent_block"
class GrpcAccountDirectory:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self._timeout = timeout

    async def is_permanently_blocked(self, email: str) -> bool:
        try:
            reply = await self._stub.GetAccountByEmail(
                account_pb2.GetAccountByEmailRequest(email=email), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # no account: nothing can block it
                return False
            raise downstream_failure("account", "GetAccountByEmail", error) from None
        return any(s.sanction_code == PERMANENT_BLOCK for s in reply.account.active_sanctions)

    async def ensure_by_email(
        self, *, email: str, preferred_language: str, time_zone: str
    ) -> EnsuredAccount:
        try:
            reply = await self._stub.EnsureAccountByEmail(
                account_pb2.EnsureAccountByEmailRequest(
                    email=email, preferred_language=preferred_language, time_zone=time_zone
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise downstream_failure("account", "EnsureAccountByEmail", error) from None
        return EnsuredAccount(
            outcome=reply.outcome,
            user_id=reply.user_id,
            block_reason_code=reply.block_reason_code if reply.HasField("block_reason_code") else None,
        )


class GrpcMailSender:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float, template_id: str) -> None:
        self._stub = mail_pb2_grpc.MailServiceStub(channel)
        self._timeout = timeout
        self._template_id = template_id

    async def send_login_codes(self, codes: Sequence[LoginCodeMail]) -> list[str | None]:
        """One EnqueueDeliveries call for all of `codes` (mail's idempotency key: the challenge id)."""
        try:
            reply = await self._stub.EnqueueDeliveries(
                mail_pb2.EnqueueDeliveriesRequest(deliveries=[
                    mail_pb2.EnqueueDeliveryRequest(
                        idempotency_key=code.idempotency_key,
                        template_id=self._template_id,
                        recipient=code.recipient,
                        locale=code.locale,
                        variables={"code": code.code},
                    )
                    for code in codes
                ]),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise downstream_failure("mail", "EnqueueDeliveries", error) from None
        return [result.error or None for result in reply.results]
