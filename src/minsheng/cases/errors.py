"""What an action answers when it refuses. Entry points map these to HTTP codes."""

from __future__ import annotations


class CaseError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(CaseError):
    """The case does not exist, or the actor may not see it (the two look alike)."""

    status = 404


class Forbidden(CaseError):
    status = 403


class Conflict(CaseError):
    """The case is not in a state for this action, or changed since the actor saw it."""

    status = 409

    def __init__(self, message: str, *, state: str, version: int):
        super().__init__(message)
        self.state = state
        self.version = version


class Invalid(CaseError):
    """Input the action cannot take; ``field`` names what to fix."""

    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
