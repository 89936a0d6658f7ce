"""What a use-case runs against: the database, the settings, and the engine to wake."""

from dataclasses import dataclass
from typing import Protocol

from hookline.config import Settings
from hookline.store.database import Database, DatabaseUnavailableError, is_disconnect, now_ms


class Wakeable(Protocol):
    def wake(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    settings: Settings
    engine: Wakeable | None = None

    def wake(self) -> None:
        """Tell this process's engine that work is due now (after a commit, never before:
        it would claim before the rows are visible). Other processes learn it from the
        database (PostgreSQL NOTIFY, or their poll)."""
        if self.engine is not None:
            self.engine.wake()


# Entry points name these through the use-case layer, never through the store.
__all__ = ["Context", "Database", "DatabaseUnavailableError", "Wakeable", "is_disconnect", "now_ms"]
