"""Errors the store raises for the API to map onto HTTP statuses."""


class NotFoundError(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class ConflictError(Exception):
    """A unique field (uid, eventId, name) is already taken."""
