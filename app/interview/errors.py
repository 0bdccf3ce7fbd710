"""Domain errors of the interview layer; the API maps them to status codes in one place."""

from __future__ import annotations


class RapportError(Exception):
    """Base for errors a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContentError(RapportError):
    """A persona or rubric file is broken. The message names the file, field and expectation."""


class NotFound(RapportError):
    """An id that does not exist. ``valid`` lists the ids that do, when that is useful."""

    def __init__(self, kind: str, ident: str, valid: list[str] | None = None) -> None:
        self.kind = kind
        self.ident = ident
        self.valid = valid or []
        hint = f" Valid {kind} ids: {', '.join(self.valid)}." if self.valid else ""
        super().__init__(f"Unknown {kind} '{ident}'.{hint}")


class InvalidInput(RapportError):
    """Input that breaks a rule; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class Conflict(RapportError):
    """The request clashes with the interview's state (a turn in flight, already finished)."""
