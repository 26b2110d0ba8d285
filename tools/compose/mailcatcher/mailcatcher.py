"""SMTP catcher with the part of Mailpit's HTTP API the suite tests use (a stand-in for Mailpit).

SMTP on :1025 (aiosmtpd) keeps every message in memory, with one `Delivered-To` header per
envelope recipient in front (as a mailbox would). HTTP on :8025:

    GET    /readyz                  200 "ok"
    GET    /api/v1/messages         {"total", "count", "messages": [summary, ...]}, newest first
    GET    /api/v1/message/{ID}     summary + "Text" (the plain-text body)
    GET    /api/v1/message/{ID}/raw the message source (message/rfc822)
    DELETE /api/v1/messages         every message, or {"IDs": [...]} only those

A summary is {"ID", "MessageID", "From": {"Name", "Address"}, "To": [...], "Subject",
"Created", "Size"}, as Mailpit's. No web UI, no search, no persistence.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

SMTP_PORT = 1025
HTTP_PORT = 8025
MAX_MESSAGES = 10_000


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, dict] = {}  # insertion order = arrival order

    def add(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        traced = b"".join(f"Delivered-To: {rcpt}\r\n".encode() for rcpt in rcpt_tos) + data
        parsed = message_from_bytes(traced, policy=policy.default)
        name, address = parseaddr(str(parsed.get("From", mail_from)))
        summary = {
            "ID": uuid.uuid4().hex,
            "MessageID": str(parsed.get("Message-ID", "")).strip("<>"),
            "From": {"Name": name, "Address": address or mail_from},
            "To": [{"Name": n, "Address": a} for n, a in getaddresses(parsed.get_all("To") or [])],
            "Subject": str(parsed.get("Subject", "")),
            "Created": datetime.now(UTC).isoformat(),
            "Size": len(traced),
        }
        with self._lock:
            self._messages[summary["ID"]] = {"summary": summary, "raw": traced}
            while len(self._messages) > MAX_MESSAGES:
                self._messages.pop(next(iter(self._messages)))

    def summaries(self) -> list[dict]:
        with self._lock:
            return [m["summary"] for m in reversed(self._messages.values())]

    def get(self, message_id: str) -> dict | None:
        with self._lock:
            return self._messages.get(message_id)

    def delete(self, ids: list[str] | None) -> None:
        with self._lock:
            if ids is None:
                self._messages.clear()
            for message_id in ids or []:
                self._messages.pop(message_id, None)


STORE = Store()


class SmtpHandler:
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        STORE.add(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


MESSAGE = re.compile(r"^/api/v1/message/([0-9a-f]+)(/raw)?$")


class Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/readyz":
            return self._send(200, b"ok", "text/plain")
        if self.path.split("?")[0] == "/api/v1/messages":
            summaries = STORE.summaries()
            return self._json({"total": len(summaries), "count": len(summaries), "messages": summaries})
        match = MESSAGE.match(self.path)
        stored = STORE.get(match.group(1)) if match else None
        if stored is None:
            return self._send(404, b"message not found", "text/plain")
        if match.group(2):
            return self._send(200, stored["raw"], "message/rfc822")
        parsed = message_from_bytes(stored["raw"], policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        return self._json({**stored["summary"], "Text": body.get_content() if body else ""})

    def do_DELETE(self) -> None:  # noqa: N802
        if self.path != "/api/v1/messages":
            return self._send(404, b"not found", "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        STORE.delete(body.get("IDs") or None)
        return self._send(200, b"ok", "text/plain")

    def _json(self, value: object) -> None:
        self._send(200, json.dumps(value).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet access log
        pass


def main() -> None:
    smtp = Controller(SmtpHandler(), hostname="0.0.0.0", port=SMTP_PORT)
    smtp.start()
    http = ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Api)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=http.shutdown).start())
    print(f"mailcatcher: SMTP on :{SMTP_PORT}, API on :{HTTP_PORT}", flush=True)
    try:
        http.serve_forever()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
