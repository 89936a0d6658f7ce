"""Every API operation as a pure function returning a :class:`Call`.

The keyword options are TypedDicts, so the sync and async resources declare
them once (``**options: Unpack[...]``) and stay one line each. An option that
is None is not sent, except in a patch, where None clears the field (see
:func:`changes`).
"""

import functools
import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypedDict, TypeVar, Unpack, get_args, get_type_hints

from hookline.client._calls import Call, HooklineError, body, creating, query, segment
from hookline.client._models import (
    Application,
    Attempt,
    BackgroundTask,
    Endpoint,
    EndpointMessage,
    EndpointSecret,
    EventType,
    Message,
    MessageEndpoint,
    Page,
    empty,
    page_of,
)

Order = Literal["ascending", "descending"]
KeyType = Literal["hmac", "ed25519"]
FifoOnExhausted = Literal["skip", "block"]


P = ParamSpec("P")
R = TypeVar("R")


def options_checked(operation: Callable[P, R]) -> Callable[P, R]:
    """``operation``, refusing a keyword option its TypedDict does not name: a misspelt one
    (``evnt_types=``) would otherwise be left out of the request without a word."""
    (options,) = (p.name for p in inspect.signature(operation).parameters.values() if p.kind is p.VAR_KEYWORD)
    (named,) = get_args(get_type_hints(operation)[options])
    allowed = named.__required_keys__ | named.__optional_keys__

    @functools.wraps(operation)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(f"got an unexpected keyword argument {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
        return operation(*args, **kwargs)

    return checked


def _path(*parts: str) -> str:
    return "/api/v1/" + "/".join(segment(p) if i % 2 else p for i, p in enumerate(parts))


# What None means in a patch, per field: null (the API clears it), an empty value the API
# stores instead (a description or metadata cleared), or nothing (the field cannot be empty).
NULL = object()
_APPLICATION_FIELDS: dict[str, tuple[str, object]] = {
    "name": ("name", None),
    "uid": ("uid", NULL),
    "metadata": ("metadata", {}),
    "throttle_rate": ("throttleRate", NULL),
}
ENDPOINT_FIELDS: dict[str, tuple[str, object]] = {
    "url": ("url", None),
    "description": ("description", ""),
    "uid": ("uid", NULL),
    "event_types": ("eventTypes", NULL),
    "channels": ("channels", NULL),
    "disabled": ("disabled", None),
    "metadata": ("metadata", {}),
    "throttle_rate": ("throttleRate", NULL),
    "filter": ("filter", NULL),
    "fifo": ("fifo", None),
    "fifo_on_exhausted": ("fifoOnExhausted", None),
}


def changes(given: Mapping[str, Any], fields: Mapping[str, tuple[str, object]]) -> dict[str, Any]:
    """A PATCH body: each keyword given (``options_checked``: one of ``fields``) under its API
    name, None as what clears that field (null, ``""`` or ``{}``). None for a field that cannot
    be empty fails here rather than being dropped without a word."""
    data: dict[str, Any] = {}
    for name, value in given.items():
        wire, cleared = fields[name]
        if value is None and cleared is None:
            raise HooklineError(0, "invalid_argument", f"{name} cannot be cleared: give a value, or leave it out")
        data[wire] = value if value is not None else (None if cleared is NULL else cleared)
    return data


class Paging(TypedDict, total=False):
    limit: int | None
    iterator: str | None


class OrderedPaging(Paging, total=False):
    order: Order | None


class EventTypeListOptions(OrderedPaging, total=False):
    include_archived: bool | None
    with_content: bool | None


class MessageListOptions(Paging, total=False):
    event_types: list[str] | None
    channel: str | None
    before: datetime | None
    after: datetime | None
    with_content: bool | None


class EndpointMessageListOptions(MessageListOptions, total=False):
    status: int | None


class AttemptListOptions(Paging, total=False):
    status: int | None
    status_code_class: int | None
    event_types: list[str] | None
    channel: str | None
    before: datetime | None
    after: datetime | None


class MsgAttemptListOptions(AttemptListOptions, total=False):
    endpoint_id: str | None


class ApplicationOptions(TypedDict, total=False):
    uid: str | None
    metadata: dict[str, str] | None
    throttle_rate: int | None
    get_if_exists: bool | None
    idempotency_key: str | None


class EndpointFields(TypedDict, total=False):
    description: str | None
    uid: str | None
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool | None
    metadata: dict[str, str] | None
    throttle_rate: int | None
    filter: dict[str, Any] | None
    fifo: bool | None
    fifo_on_exhausted: FifoOnExhausted | None


class EndpointSigning(TypedDict, total=False):
    secret: str | None
    key_type: KeyType | None
    headers: dict[str, str] | None


class EndpointOptions(EndpointFields, EndpointSigning, total=False):
    idempotency_key: str | None


# A patch sends the keywords given and only those: None clears the field (JSON null), a
# keyword left out leaves it as it is, as the svix SDK's patch models do. A field that
# cannot be empty is typed without None, and None for it is refused before any request.
class ApplicationChanges(TypedDict, total=False):
    name: str
    uid: str | None
    metadata: dict[str, str] | None
    throttle_rate: int | None


class EndpointChanges(TypedDict, total=False):
    url: str
    description: str | None
    uid: str | None
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool
    metadata: dict[str, str] | None
    throttle_rate: int | None
    filter: dict[str, Any] | None
    fifo: bool
    fifo_on_exhausted: FifoOnExhausted


class BulkReplayOptions(TypedDict, total=False):
    until: datetime | None
    event_types: list[str] | None
    channel: str | None
    status: int | None


class EventTypeOptions(TypedDict, total=False):
    archived: bool | None
    deprecated: bool | None
    schemas: dict[str, Any] | None
    feature_flag: str | None
    idempotency_key: str | None


class MessageOptions(TypedDict, total=False):
    event_id: str | None
    channels: list[str] | None
    payload_retention_period: int | None
    idempotency_key: str | None


# -- applications ------------------------------------------------------------
@options_checked
def list_applications(**o: Unpack[OrderedPaging]) -> Call[Page[Application]]:
    return Call("GET", _path("app"), page_of(Application.from_json), query(**o))


@options_checked
def create_application(name: str, **o: Unpack[ApplicationOptions]) -> Call[Application]:
    params = query(get_if_exists=o.get("get_if_exists"))
    data = body(name=name, uid=o.get("uid"), metadata=o.get("metadata"), throttleRate=o.get("throttle_rate"))
    return Call("POST", _path("app"), Application.from_json, params, data, creating(o.get("idempotency_key")))


def get_application(app_id: str) -> Call[Application]:
    return Call("GET", _path("app", app_id), Application.from_json)


@options_checked
def patch_application(app_id: str, **o: Unpack[ApplicationChanges]) -> Call[Application]:
    """Change only the given fields (``PATCH``); None clears one (``throttle_rate=None``: no limit)."""
    return Call("PATCH", _path("app", app_id), Application.from_json, body=changes(o, _APPLICATION_FIELDS))


def delete_application(app_id: str) -> Call[None]:
    return Call("DELETE", _path("app", app_id), empty)


@options_checked
def bulk_replay_application(app_id: str, since: datetime, **o: Unpack[BulkReplayOptions]) -> Call[BackgroundTask]:
    return _bulk_replay(_path("app", app_id) + "/bulk-replay", since, o)


# -- endpoints ---------------------------------------------------------------
@options_checked
def list_endpoints(app_id: str, **o: Unpack[OrderedPaging]) -> Call[Page[Endpoint]]:
    return Call("GET", _path("app", app_id, "endpoint"), page_of(Endpoint.from_json), query(**o))


def endpoint_body(url: str, o: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint's (or a destination's) JSON body, without the options left unset."""
    return body(
        url=url,
        description=o.get("description"),
        uid=o.get("uid"),
        eventTypes=o.get("event_types"),
        channels=o.get("channels"),
        disabled=o.get("disabled"),
        metadata=o.get("metadata"),
        throttleRate=o.get("throttle_rate"),
        filter=o.get("filter"),
        fifo=o.get("fifo"),
        fifoOnExhausted=o.get("fifo_on_exhausted"),
        secret=o.get("secret"),
        keyType=o.get("key_type"),
        headers=o.get("headers"),
        pathForwardingDisabled=o.get("path_forwarding_disabled"),
    )


@options_checked
def create_endpoint(app_id: str, url: str, **o: Unpack[EndpointOptions]) -> Call[Endpoint]:
    path = _path("app", app_id, "endpoint")
    data = endpoint_body(url, o)
    return Call("POST", path, Endpoint.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_endpoint(app_id: str, endpoint_id: str) -> Call[Endpoint]:
    return Call("GET", _path("app", app_id, "endpoint", endpoint_id), Endpoint.from_json)


@options_checked
def patch_endpoint(app_id: str, endpoint_id: str, **o: Unpack[EndpointChanges]) -> Call[Endpoint]:
    """Change only the given fields (``PATCH``); None clears one (``event_types=None``: every
    event type); ``disabled=`` turns delivery off or on."""
    data = changes(o, ENDPOINT_FIELDS)
    return Call("PATCH", _path("app", app_id, "endpoint", endpoint_id), Endpoint.from_json, body=data)


def delete_endpoint(app_id: str, endpoint_id: str) -> Call[None]:
    return Call("DELETE", _path("app", app_id, "endpoint", endpoint_id), empty)


def get_endpoint_secret(app_id: str, endpoint_id: str) -> Call[EndpointSecret]:
    return Call("GET", _path("app", app_id, "endpoint", endpoint_id) + "/secret", EndpointSecret.from_json)


def rotate_endpoint_secret(
    app_id: str,
    endpoint_id: str,
    key: str | None = None,
    grace_period_seconds: int | None = None,
    *,
    key_type: KeyType | None = None,
) -> Call[EndpointSecret]:
    path = _path("app", app_id, "endpoint", endpoint_id) + "/secret/rotate"
    data = body(key=key, gracePeriodSeconds=grace_period_seconds, keyType=key_type)
    return Call("POST", path, EndpointSecret.from_json, body=data, headers=creating(None))


def _task_call(app_id: str, endpoint_id: str, action: str, since: datetime, until: datetime | None) -> Call[Any]:
    path = _path("app", app_id, "endpoint", endpoint_id) + "/" + action
    data = body(since=since.isoformat(), until=until.isoformat() if until else None)
    return Call("POST", path, BackgroundTask.from_json, body=data, headers=creating(None))


def recover_endpoint(
    app_id: str, endpoint_id: str, since: datetime, until: datetime | None = None
) -> Call[BackgroundTask]:
    return _task_call(app_id, endpoint_id, "recover", since, until)


def replay_missing(
    app_id: str, endpoint_id: str, since: datetime, until: datetime | None = None
) -> Call[BackgroundTask]:
    return _task_call(app_id, endpoint_id, "replay-missing", since, until)


@options_checked
def bulk_replay_endpoint(
    app_id: str, endpoint_id: str, since: datetime, **o: Unpack[BulkReplayOptions]
) -> Call[BackgroundTask]:
    return _bulk_replay(_path("app", app_id, "endpoint", endpoint_id) + "/bulk-replay", since, o)


def _bulk_replay(path: str, since: datetime, o: BulkReplayOptions) -> Call[BackgroundTask]:
    until = o.get("until")
    data = body(
        since=since.isoformat(),
        until=until.isoformat() if until else None,
        eventTypes=o.get("event_types"),
        channel=o.get("channel"),
        status=o.get("status"),
    )
    return Call("POST", path, BackgroundTask.from_json, body=data, headers=creating(None))


# -- event types -------------------------------------------------------------
@options_checked
def list_event_types(**o: Unpack[EventTypeListOptions]) -> Call[Page[EventType]]:
    return Call("GET", _path("event-type"), page_of(EventType.from_json), query(**o))


@options_checked
def create_event_type(name: str, description: str = "", **o: Unpack[EventTypeOptions]) -> Call[EventType]:
    data = body(
        name=name,
        description=description,
        archived=o.get("archived"),
        deprecated=o.get("deprecated"),
        schemas=o.get("schemas"),
        featureFlag=o.get("feature_flag"),
    )
    return Call("POST", _path("event-type"), EventType.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_event_type(name: str) -> Call[EventType]:
    return Call("GET", _path("event-type", name), EventType.from_json)


def import_openapi(spec_raw: str, *, dry_run: bool = False, replace_all: bool = False) -> Call[tuple[str, ...]]:
    """Event types from the ``webhooks`` of an OpenAPI 3.1 document (JSON or YAML text);
    answers the names created or changed (on a dry run: that would be)."""
    data = {"specRaw": spec_raw, "dryRun": dry_run, "replaceAll": replace_all}
    return Call("POST", _path("event-type", "import", "openapi"), lambda d: tuple(d["data"]["modified"]), body=data)


# -- messages ----------------------------------------------------------------
@options_checked
def list_messages(app_id: str, **o: Unpack[MessageListOptions]) -> Call[Page[Message]]:
    return Call("GET", _path("app", app_id, "msg"), page_of(Message.from_json), query(**o))


@options_checked
def create_message(app_id: str, event_type: str, payload: dict[str, Any], **o: Unpack[MessageOptions]) -> Call[Message]:
    data = body(
        eventType=event_type,
        payload=payload,
        eventId=o.get("event_id"),
        channels=o.get("channels"),
        payloadRetentionPeriod=o.get("payload_retention_period"),
    )
    path = _path("app", app_id, "msg")
    return Call("POST", path, Message.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_message(app_id: str, msg_id: str) -> Call[Message]:
    return Call("GET", _path("app", app_id, "msg", msg_id), Message.from_json)


@options_checked
def list_endpoint_messages(
    app_id: str, endpoint_id: str, **o: Unpack[EndpointMessageListOptions]
) -> Call[Page[EndpointMessage]]:
    path = _path("app", app_id, "endpoint", endpoint_id) + "/msg"
    return Call("GET", path, page_of(EndpointMessage.from_json), query(**o))


@options_checked
def list_message_endpoints(app_id: str, msg_id: str, **o: Unpack[Paging]) -> Call[Page[MessageEndpoint]]:
    path = _path("app", app_id, "msg", msg_id) + "/endpoint"
    return Call("GET", path, page_of(MessageEndpoint.from_json), query(**o))


# -- attempts ----------------------------------------------------------------
@options_checked
def list_attempts_by_endpoint(app_id: str, endpoint_id: str, **o: Unpack[AttemptListOptions]) -> Call[Page[Attempt]]:
    path = _path("app", app_id, "attempt") + "/endpoint/" + segment(endpoint_id)
    return Call("GET", path, page_of(Attempt.from_json), query(**o))


@options_checked
def list_attempts_by_msg(app_id: str, msg_id: str, **o: Unpack[MsgAttemptListOptions]) -> Call[Page[Attempt]]:
    path = _path("app", app_id, "attempt") + "/msg/" + segment(msg_id)
    return Call("GET", path, page_of(Attempt.from_json), query(**o))


def resend(app_id: str, msg_id: str, endpoint_id: str) -> Call[None]:
    path = _path("app", app_id, "msg", msg_id, "endpoint", endpoint_id) + "/resend"
    return Call("POST", path, empty, headers=creating(None))


# -- background tasks --------------------------------------------------------
def get_task(task_id: str) -> Call[BackgroundTask]:
    return Call("GET", _path("background-task", task_id), BackgroundTask.from_json)
