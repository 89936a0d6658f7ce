"""Rows to records: the store hands the layers above typed records, never mappings."""

from dataclasses import fields
from typing import Any, TypeVar

from hookline.domain.model import (
    Application,
    Attempt,
    BackgroundTask,
    DeliveryState,
    DeliveryStatus,
    Endpoint,
    EventType,
    Integration,
    Message,
    Trigger,
)
from hookline.store.tables import Row

R = TypeVar("R")


_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _names(cls: type[Any]) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _record(cls: type[R], row: Row) -> R:
    return cls(**{name: row[name] for name in _names(cls)})


def application(row: Row) -> Application:
    return _record(Application, row)


def event_type(row: Row) -> EventType:
    return _record(EventType, row)


def endpoint(row: Row) -> Endpoint:
    return _record(Endpoint, row)


def message(row: Row) -> Message:
    return _record(Message, row)


def attempt(row: Row) -> Attempt:
    values = {name: row[name] for name in _names(Attempt)}
    values["status"] = DeliveryStatus(values["status"])
    values["trigger"] = Trigger(values["trigger"])
    return Attempt(**values)


def delivery_state(row: Row) -> DeliveryState:
    return DeliveryState(status=DeliveryStatus(row["status"]), next_attempt_at=row["next_attempt_at"])


def background_task(row: Row) -> BackgroundTask:
    """A task row; ``data`` (its result) only where the query joined it."""
    values: dict[str, Any] = {name: row[name] for name in _names(BackgroundTask) if name != "data"}
    return BackgroundTask(**values, data=row.get("data"))


def integration(row: Row) -> Integration:
    return _record(Integration, row)
