"""Every API operation as a pure function returning a :class:`Call`.

The keyword options are TypedDicts, so the sync and async resources declare
them once (``**options: Unpack[...]``) and stay one line each. An option that
is None is not sent.
"""

from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack

from hookline.client._calls import Call, body, creating, query, segment
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


def _path(*parts: str) -> str:
    return "/api/v1/" + "/".join(segment(p) if i % 2 else p for i, p in enumerate(parts))


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


class EndpointOptions(TypedDict, total=False):
    description: str | None
    uid: str | None
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool | None
    metadata: dict[str, str] | None
    throttle_rate: int | None
    secret: str | None
    headers: dict[str, str] | None
    idempotency_key: str | None


class ApplicationChanges(TypedDict, total=False):
    name: str | None
    uid: str | None
    metadata: dict[str, str] | None
    throttle_rate: int | None


class EndpointChanges(TypedDict, total=False):
    url: str | None
    description: str | None
    uid: str | None
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool | None
    metadata: dict[str, str] | None
    throttle_rate: int | None


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
def list_applications(**o: Unpack[OrderedPaging]) -> Call[Page[Application]]:
    return Call("GET", _path("app"), page_of(Application.from_json), query(**o))


def create_application(name: str, **o: Unpack[ApplicationOptions]) -> Call[Application]:
    params = query(get_if_exists=o.get("get_if_exists"))
    data = body(name=name, uid=o.get("uid"), metadata=o.get("metadata"), throttleRate=o.get("throttle_rate"))
    return Call("POST", _path("app"), Application.from_json, params, data, creating(o.get("idempotency_key")))


def get_application(app_id: str) -> Call[Application]:
    return Call("GET", _path("app", app_id), Application.from_json)


def patch_application(app_id: str, **o: Unpack[ApplicationChanges]) -> Call[Application]:
    """Change only the given fields (``PATCH``)."""
    data = body(name=o.get("name"), uid=o.get("uid"), metadata=o.get("metadata"), throttleRate=o.get("throttle_rate"))
    return Call("PATCH", _path("app", app_id), Application.from_json, body=data)


def delete_application(app_id: str) -> Call[None]:
    return Call("DELETE", _path("app", app_id), empty)


def bulk_replay_application(app_id: str, since: datetime, **o: Unpack[BulkReplayOptions]) -> Call[BackgroundTask]:
    return _bulk_replay(_path("app", app_id) + "/bulk-replay", since, o)


# -- endpoints ---------------------------------------------------------------
def list_endpoints(app_id: str, **o: Unpack[OrderedPaging]) -> Call[Page[Endpoint]]:
    return Call("GET", _path("app", app_id, "endpoint"), page_of(Endpoint.from_json), query(**o))


def create_endpoint(app_id: str, url: str, **o: Unpack[EndpointOptions]) -> Call[Endpoint]:
    data = body(
        url=url,
        description=o.get("description"),
        uid=o.get("uid"),
        eventTypes=o.get("event_types"),
        channels=o.get("channels"),
        disabled=o.get("disabled"),
        metadata=o.get("metadata"),
        throttleRate=o.get("throttle_rate"),
        secret=o.get("secret"),
        headers=o.get("headers"),
    )
    path = _path("app", app_id, "endpoint")
    return Call("POST", path, Endpoint.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_endpoint(app_id: str, endpoint_id: str) -> Call[Endpoint]:
    return Call("GET", _path("app", app_id, "endpoint", endpoint_id), Endpoint.from_json)


def patch_endpoint(app_id: str, endpoint_id: str, **o: Unpack[EndpointChanges]) -> Call[Endpoint]:
    """Change only the given fields (``PATCH``); ``disabled=`` turns delivery off or on."""
    data = body(
        url=o.get("url"),
        description=o.get("description"),
        uid=o.get("uid"),
        eventTypes=o.get("event_types"),
        channels=o.get("channels"),
        disabled=o.get("disabled"),
        metadata=o.get("metadata"),
        throttleRate=o.get("throttle_rate"),
    )
    return Call("PATCH", _path("app", app_id, "endpoint", endpoint_id), Endpoint.from_json, body=data)


def delete_endpoint(app_id: str, endpoint_id: str) -> Call[None]:
    return Call("DELETE", _path("app", app_id, "endpoint", endpoint_id), empty)


def get_endpoint_secret(app_id: str, endpoint_id: str) -> Call[EndpointSecret]:
    return Call("GET", _path("app", app_id, "endpoint", endpoint_id) + "/secret", EndpointSecret.from_json)


def rotate_endpoint_secret(
    app_id: str, endpoint_id: str, key: str | None = None, grace_period_seconds: int | None = None
) -> Call[EndpointSecret]:
    path = _path("app", app_id, "endpoint", endpoint_id) + "/secret/rotate"
    data = body(key=key, gracePeriodSeconds=grace_period_seconds)
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
def list_event_types(**o: Unpack[EventTypeListOptions]) -> Call[Page[EventType]]:
    return Call("GET", _path("event-type"), page_of(EventType.from_json), query(**o))


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
def list_messages(app_id: str, **o: Unpack[MessageListOptions]) -> Call[Page[Message]]:
    return Call("GET", _path("app", app_id, "msg"), page_of(Message.from_json), query(**o))


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


def list_endpoint_messages(
    app_id: str, endpoint_id: str, **o: Unpack[EndpointMessageListOptions]
) -> Call[Page[EndpointMessage]]:
    path = _path("app", app_id, "endpoint", endpoint_id) + "/msg"
    return Call("GET", path, page_of(EndpointMessage.from_json), query(**o))


def list_message_endpoints(app_id: str, msg_id: str, **o: Unpack[Paging]) -> Call[Page[MessageEndpoint]]:
    path = _path("app", app_id, "msg", msg_id) + "/endpoint"
    return Call("GET", path, page_of(MessageEndpoint.from_json), query(**o))


# -- attempts ----------------------------------------------------------------
def list_attempts_by_endpoint(app_id: str, endpoint_id: str, **o: Unpack[AttemptListOptions]) -> Call[Page[Attempt]]:
    path = _path("app", app_id, "attempt") + "/endpoint/" + segment(endpoint_id)
    return Call("GET", path, page_of(Attempt.from_json), query(**o))


def list_attempts_by_msg(app_id: str, msg_id: str, **o: Unpack[MsgAttemptListOptions]) -> Call[Page[Attempt]]:
    path = _path("app", app_id, "attempt") + "/msg/" + segment(msg_id)
    return Call("GET", path, page_of(Attempt.from_json), query(**o))


def resend(app_id: str, msg_id: str, endpoint_id: str) -> Call[None]:
    path = _path("app", app_id, "msg", msg_id, "endpoint", endpoint_id) + "/resend"
    return Call("POST", path, empty, headers=creating(None))


# -- background tasks --------------------------------------------------------
def get_task(task_id: str) -> Call[BackgroundTask]:
    return Call("GET", _path("background-task", task_id), BackgroundTask.from_json)
