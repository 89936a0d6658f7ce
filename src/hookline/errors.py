"""One exception root for the server: every rule a use-case enforces fails as one of these.

Entry points map them in one place (``api/errors.py`` for HTTP); the layers below
raise them without knowing which entry point called.
"""


class HooklineError(Exception):
    """Something the caller asked for cannot be done; ``str(exc)`` says why."""


class NotFound(HooklineError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(HooklineError):
    """A unique field (uid, eventId, name) is already taken, or the state forbids the change."""


class Forbidden(HooklineError):
    """The caller may not do this (for example, an application-scoped token)."""


class Invalid(HooklineError):
    """An input breaks a rule its schema cannot express; ``field`` names it (``["body", "url"]``)."""

    def __init__(self, field: list[str], message: str) -> None:
        super().__init__(message)
        self.field = field


class TooLarge(HooklineError):
    """An input is over a configured size limit."""


class Unavailable(HooklineError):
    """A resource the operation needs cannot be reached or opened right now; retry later."""
