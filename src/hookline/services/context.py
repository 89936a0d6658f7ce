"""What a use-case runs against: the database, the settings, and the engine to wake."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hookline.config import Settings
from hookline.store.database import Database, DatabaseUnavailableError, is_disconnect, now_ms
from hookline.store.secrets import SecretBox
from hookline.transform import Sandbox

# A row not (yet) given a record type of its own.
Row = Mapping[str, Any]


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox.from_settings(settings)


class Wakeable(Protocol):
    def wake(self, endpoints: Collection[str] = ()) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    settings: Settings
    engine: Wakeable | None = None
    sandbox: Sandbox | None = None  # runs endpoint transformations; the runtime owns it

    def wake(self, endpoints: Collection[str] = ()) -> None:
        """Tell this process's engine that work is due now (after a commit, never before:
        it would claim before the rows are visible), for ``endpoints`` when the caller knows
        them. Other processes learn it from the database (PostgreSQL NOTIFY, or their poll)."""
        if self.engine is not None:
            self.engine.wake(endpoints)


# Entry points name these through the use-case layer, never through the store.
__all__ = [
    "Context",
    "Database",
    "DatabaseUnavailableError",
    "Row",
    "SecretBox",
    "Wakeable",
    "is_disconnect",
    "now_ms",
    "secret_box",
]
