"""The store's names for the errors of ``hookline.errors`` (kept for existing imports)."""

from hookline.errors import Conflict, NotFound

NotFoundError = NotFound
ConflictError = Conflict

__all__ = ["ConflictError", "NotFoundError"]
