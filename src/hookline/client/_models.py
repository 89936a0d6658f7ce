"""What the API returns, as typed, frozen dataclasses.

Each model keeps the JSON object it was read from in ``raw`` (camelCase, as the
API sent it), so fields this client does not know yet are not lost.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, cast

StatusText = Literal["success", "pending", "fail", "sending"]
TaskStatus = Literal["running", "finished", "failed"]
T = TypeVar("T")
JSON = Mapping[str, Any]


def time_of(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _maybe_time(value: Any) -> datetime | None:
    return None if value is None else time_of(value)


def dict_of(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def strings_of(value: Any) -> list[str] | None:
    return None if value is None else [str(v) for v in value]


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list. Pass ``iterator`` back to get the next one, until ``done``."""

    data: list[T]
    iterator: str | None
    prev_iterator: str | None
    done: bool


def next_iterator(page: "Page[Any]", current: str | None) -> str | None:
    """Where the next page starts, or None when the list is exhausted (or stuck)."""
    if page.done or not page.iterator or page.iterator == current:
        return None
    return page.iterator


def json_kind(value: Any) -> str:
    """What a JSON value is, in words: ``a list``, ``a string``, ``null``..."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {list: "a list", str: "a string", int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def page_of(parse: Callable[[JSON], T]) -> Callable[[JSON], Page[T]]:
    """A list's page: an object whose ``data`` is a list of objects, each read by ``parse``."""

    def parse_page(data: JSON) -> Page[T]:
        items = data["data"]
        if not isinstance(items, list):
            raise TypeError(f'its "data" is {json_kind(items)}, not a list')
        return Page(
            data=[parse(json_object(item, 'an item of its "data"')) for item in items],
            iterator=data.get("iterator"),
            prev_iterator=data.get("prevIterator"),
            done=bool(data.get("done", True)),
        )

    return parse_page


def json_object(value: Any, what: str = "its answer") -> JSON:
    """``value`` when it is a JSON object, else a TypeError saying what it is."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} is {json_kind(value)}, not an object")
    return value


def fields(*names: str) -> Callable[[Any], dict[str, Any]]:
    """A parser for an answer read as a plain dict: an object that has every one of ``names``
    (a KeyError names the first missing), so a caller can index them without a traceback."""

    def parse(data: Any) -> dict[str, Any]:
        found = dict(json_object(data))
        missing = [name for name in names if name not in found]
        if missing:
            raise KeyError(missing[0])
        return found

    return parse


@dataclass(frozen=True, kw_only=True)
class Application:
    id: str
    uid: str | None
    name: str
    metadata: dict[str, str]
    throttle_rate: int | None
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "Application":
        return cls(
            id=data["id"],
            uid=data.get("uid"),
            name=data["name"],
            metadata=dict_of(data.get("metadata")),
            throttle_rate=data.get("throttleRate"),
            created_at=time_of(data["createdAt"]),
            updated_at=time_of(data["updatedAt"]),
            raw=dict(data),
        )


def endpoint_fields(data: JSON) -> dict[str, Any]:
    return {
        "id": data["id"],
        "uid": data.get("uid"),
        "url": data["url"],
        "description": data.get("description", ""),
        "event_types": strings_of(data.get("eventTypes")),
        "channels": strings_of(data.get("channels")),
        "disabled": bool(data.get("disabled", False)),
        "metadata": dict_of(data.get("metadata")),
        "throttle_rate": data.get("throttleRate"),
        "filter": dict_of(data["filter"]) if isinstance(data.get("filter"), Mapping) else None,
        "fifo": bool(data.get("fifo", False)),
        "fifo_on_exhausted": str(data.get("fifoOnExhausted", "skip")),
        "created_at": time_of(data["createdAt"]),
        "updated_at": time_of(data["updatedAt"]),
        "raw": dict(data),
    }


def _status_fields(data: JSON) -> dict[str, Any]:
    return {
        "status": int(data["status"]),
        "status_text": data["statusText"],
        "next_attempt": _maybe_time(data.get("nextAttempt")),
    }


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    id: str
    uid: str | None
    url: str
    description: str
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool
    metadata: dict[str, str]
    throttle_rate: int | None
    filter: dict[str, Any] | None  # the payload filter (docs/policies.md)
    fifo: bool  # delivered in publish order, one at a time
    fifo_on_exhausted: str  # "skip" or "block": what a FIFO endpoint does after a message fails for good
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "Endpoint":
        return cls(**endpoint_fields(data))


@dataclass(frozen=True, kw_only=True)
class MessageEndpoint(Endpoint):
    """An endpoint a message was sent to, with that delivery's status."""

    status: int
    status_text: StatusText
    next_attempt: datetime | None

    @classmethod
    def from_json(cls, data: JSON) -> "MessageEndpoint":
        return cls(**endpoint_fields(data), **_status_fields(data))


@dataclass(frozen=True, kw_only=True)
class EndpointSecret:
    key: str

    @classmethod
    def from_json(cls, data: JSON) -> "EndpointSecret":
        return cls(key=data["key"])


@dataclass(frozen=True, kw_only=True)
class EventType:
    name: str
    description: str
    archived: bool
    deprecated: bool
    schemas: dict[str, Any] | None
    feature_flag: str | None
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "EventType":
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            archived=bool(data.get("archived", False)),
            deprecated=bool(data.get("deprecated", False)),
            schemas=data.get("schemas"),
            feature_flag=data.get("featureFlag"),
            created_at=time_of(data["createdAt"]),
            updated_at=time_of(data["updatedAt"]),
            raw=dict(data),
        )


def _message_fields(data: JSON) -> dict[str, Any]:
    return {
        "id": data["id"],
        "event_type": data["eventType"],
        "event_id": data.get("eventId"),
        "payload": dict_of(data.get("payload")),
        "channels": strings_of(data.get("channels")),
        "timestamp": time_of(data["timestamp"]),
        "raw": dict(data),
    }


@dataclass(frozen=True, kw_only=True)
class Message:
    id: str
    event_type: str
    event_id: str | None
    payload: dict[str, Any]
    channels: list[str] | None
    timestamp: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "Message":
        return cls(**_message_fields(data))


@dataclass(frozen=True, kw_only=True)
class EndpointMessage(Message):
    """A message sent to one endpoint, with that delivery's status."""

    status: int
    status_text: StatusText
    next_attempt: datetime | None

    @classmethod
    def from_json(cls, data: JSON) -> "EndpointMessage":
        return cls(**_message_fields(data), **_status_fields(data))


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """One HTTP request made to deliver a message (append-only)."""

    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int
    response_duration_ms: int
    status: int
    status_text: StatusText
    trigger_type: int
    attempt_number: int
    error: str | None
    timestamp: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "Attempt":
        return cls(
            id=data["id"],
            msg_id=data["msgId"],
            endpoint_id=data["endpointId"],
            url=data["url"],
            response=data.get("response", ""),
            response_status_code=int(data.get("responseStatusCode", 0)),
            response_duration_ms=int(data.get("responseDurationMs", 0)),
            status=int(data["status"]),
            status_text=data["statusText"],
            trigger_type=int(data.get("triggerType", 0)),
            attempt_number=int(data.get("attemptNumber", 0)),
            error=data.get("error"),
            timestamp=time_of(data["timestamp"]),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class BackgroundTask:
    """A long job on the server (recover, replay). ``data`` carries its progress."""

    id: str
    status: TaskStatus
    task: str
    updated_at: datetime
    data: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "BackgroundTask":
        return cls(
            id=data["id"],
            status=cast(TaskStatus, data["status"]),
            task=data["task"],
            updated_at=time_of(data["updatedAt"]),
            data=dict_of(data.get("data")),
            raw=dict(data),
        )

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def progress(self) -> tuple[int, int | None]:
        """``(done, total)`` as far as the server reports them; total is None when unknown."""
        source = {**self.data, **{k: v for k, v in self.raw.items() if k in ("done", "total")}}
        done, total = source.get("done"), source.get("total")
        return (
            done if isinstance(done, int) else 0,
            total if isinstance(total, int) else None,
        )


def empty(_: JSON) -> None:
    return None
