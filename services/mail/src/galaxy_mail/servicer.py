"""MailService over gRPC. Methods not built yet are inherited and answer UNIMPLEMENTED."""

from __future__ import annotations

from galaxy.mail.v1 import mail_pb2_grpc


class MailServicer(mail_pb2_grpc.MailServiceServicer):
    pass
