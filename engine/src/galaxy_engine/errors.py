"""The engine's failures, each one HTTP status and one code of the error envelope.

The codes are those of the backend's own envelope (`invalid_request`,
`not_found`, `conflict`), so runtime can pass an engine error through to the
user unchanged.
"""

from __future__ import annotations


class EngineError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidRequest(EngineError):
    """The request (an order, a command, the roster) breaks a rule; nothing changed."""

    status = 400
    code = "invalid_request"

    @classmethod
    def of(cls, problems: list[str]) -> InvalidRequest:
        return cls("; ".join(problems))


class NotFound(EngineError):
    status = 404
    code = "not_found"


class Conflict(EngineError):
    """The request does not fit the game's state (not initialised, over, wrong turn)."""

    status = 409
    code = "conflict"
