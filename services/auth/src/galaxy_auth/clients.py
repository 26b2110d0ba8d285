"""gRPC clients of account and mail, as the domain's ports (domain/ports.py).

Failures are mapped by galaxy_kit.downstream: fail closed (down, too slow or
UNIMPLEMENTED → Unavailable, 503 at the edge), anything else INTERNAL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from galaxy.account.v1 import account_pb2, account_pb2_grpc
from galaxy.mail.v1 import mail_pb2, mail_pb2_grpc
from galaxy_kit.coalesce import Coalescer
from galaxy_kit.downstream import downstream_failure

from galaxy_auth.domain.ports import EnsuredAccount, LoginCodeMail

PERMANENT_BLOCK = "permanent_block"
#: The most addresses one GetPermanentlyBlockedEmails call carries (account takes up to 500).
MAX_EMAILS_PER_BLOCK_CHECK = 200


class GrpcAccountDirectory:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self._timeout = timeout
        self._checks: Coalescer[tuple[str, asyncio.Future[bool]]] = Coalescer(
            self._check, name="account block checks", max_batch=MAX_EMAILS_PER_BLOCK_CHECK
        )

    async def is_permanently_blocked(self, email: str) -> bool:
        """Whether account reports the address permanently blocked, asked afresh for every request.

        One call to account at a time carries every check waiting: the first check of a quiet
        moment goes at once, alone; checks that arrive while a call is under way go together
        in the next (GetPermanentlyBlockedEmails, at most MAX_EMAILS_PER_BLOCK_CHECK), so under
        load account answers one call for many requests. Nothing is cached: a block applies to
        every request that starts after it was committed.
        """
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._checks.submit((email, answer))
        return await answer

    async def _check(self, batch: list[tuple[str, asyncio.Future[bool]]]) -> None:
        try:
            blocked = await self._blocked_among([email for email, _ in batch])
        except Exception as error:  # noqa: BLE001 - every waiting request fails closed with it
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            return
        for email, answer in batch:
            if not answer.done():  # a request that gave up meanwhile is cancelled
                answer.set_result(email in blocked)

    async def _blocked_among(self, emails: list[str]) -> set[str]:
        try:
            reply = await self._stub.GetPermanentlyBlockedEmails(
                account_pb2.GetPermanentlyBlockedEmailsRequest(emails=emails), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                # An account service older than this call (a rolling update): one lookup per address.
                answers = await asyncio.gather(*(self._blocked_by_lookup(email) for email in emails))
                return {email for email, blocked in zip(emails, answers, strict=True) if blocked}
            raise downstream_failure("account", "GetPermanentlyBlockedEmails", error) from None
        return set(reply.blocked_emails)

    async def _blocked_by_lookup(self, email: str) -> bool:
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
