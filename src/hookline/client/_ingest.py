"""The ingest API (``/ingest/api/v1/source``, the receiving side) as pure functions returning a
:class:`Call`: sources, their destinations (endpoints with ``path_forwarding_disabled``), and the
requests a source received. The options work as in :mod:`hookline.client._operations`."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Required, TypedDict, Unpack

from hookline.client._calls import Call, HooklineError, body, creating, query, segment
from hookline.client._ingest_models import (
    IngestDestination,
    IngestReplay,
    IngestRequest,
    IngestRequestDetail,
    IngestSource,
    IngestStatus,
    SourceResponse,
    ingest_url,
)
from hookline.client._models import EndpointSecret, Page, empty, page_of
from hookline.client._operations import (
    ENDPOINT_FIELDS,
    NULL,
    EndpointChanges,
    EndpointFields,
    EndpointSigning,
    KeyType,
    OrderedPaging,
    Paging,
    changes,
    endpoint_body,
    options_checked,
)


class DestinationFields(EndpointFields, total=False):
    path_forwarding_disabled: bool


class NewDestination(DestinationFields, EndpointSigning, total=False):
    """A destination made with its source (``sources.create(..., destinations=[...])``)."""

    url: Required[str]


class SourceOptions(TypedDict, total=False):
    config: dict[str, Any] | None
    uid: str | None
    metadata: dict[str, str] | None
    response: SourceResponse | None
    allowed_ips: list[str] | None
    rate_limit: int | None
    destinations: list[NewDestination] | None
    idempotency_key: str | None


# A PUT replaces the source: what is left out is reset, except the uid (kept: None is typed out)
# and allowed_ips and rate_limit, which are sent when given (None removes them) and kept otherwise.
class SourceUpdateOptions(TypedDict, total=False):
    config: dict[str, Any] | None
    uid: str
    metadata: dict[str, str] | None
    response: SourceResponse | None
    allowed_ips: list[str] | None
    rate_limit: int | None


class SourceChanges(TypedDict, total=False):
    name: str
    uid: str | None
    metadata: dict[str, str] | None
    type: str
    config: dict[str, Any]
    response: SourceResponse | None
    allowed_ips: list[str] | None
    rate_limit: int | None


class DestinationOptions(DestinationFields, EndpointSigning, total=False):
    idempotency_key: str | None


class DestinationChanges(EndpointChanges, total=False):
    path_forwarding_disabled: bool


class IngestRequestListOptions(Paging, total=False):
    status: IngestStatus | None
    since: datetime | None
    until: datetime | None


_SOURCE_FIELDS: dict[str, tuple[str, object]] = {
    "name": ("name", None),
    "uid": ("uid", NULL),
    "metadata": ("metadata", {}),
    "type": ("type", None),
    "config": ("config", None),
    "response": ("response", NULL),
    "allowed_ips": ("allowedIps", NULL),
    "rate_limit": ("rateLimit", NULL),
}
_DESTINATION_FIELDS = {**ENDPOINT_FIELDS, "path_forwarding_disabled": ("pathForwardingDisabled", None)}
_RESPONSE_FIELDS = {"status_code": "statusCode", "content_type": "contentType", "body": "body"}
_NEW_DESTINATION_KEYS = NewDestination.__required_keys__ | NewDestination.__optional_keys__


def source_path(*parts: str) -> str:
    """``/ingest/api/v1/source`` and below: ``source_path(source_id, "endpoint", endpoint_id)``."""
    return "/ingest/api/v1/" + "/".join(segment(p) if i % 2 else p for i, p in enumerate(("source", *parts)))


def _unknown(given: Mapping[str, Any], known: Any, what: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        detail = f"{what} has no {unknown[0]!r}; known: {', '.join(sorted(known))}"
        raise HooklineError(0, "invalid_argument", detail)


def _response_body(response: SourceResponse | None) -> dict[str, Any] | None:
    """A source's answer under its API names; a key it does not have fails rather than being dropped."""
    if response is None:
        return None
    _unknown(response, _RESPONSE_FIELDS, "response")
    return {_RESPONSE_FIELDS[name]: value for name, value in response.items()}


def _destinations_body(destinations: list[NewDestination] | None) -> list[dict[str, Any]] | None:
    if destinations is None:
        return None
    for destination in destinations:
        _unknown(destination, _NEW_DESTINATION_KEYS, "a destination")
    return [endpoint_body(d["url"], d) for d in destinations]


def _given(o: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """The keywords of ``names`` that were given, None included, under their API names."""
    return {wire: o[name] for name, wire in names.items() if name in o}


def _source_body(name: str, type: str, o: Mapping[str, Any]) -> dict[str, Any]:
    """What a source's create and its PUT both send, without the options left unset."""
    return body(
        name=name,
        type=type,
        config=o.get("config"),
        uid=o.get("uid"),
        metadata=o.get("metadata"),
        response=_response_body(o.get("response")),
    )


@options_checked
def list_sources(**o: Unpack[OrderedPaging]) -> Call[Page[IngestSource]]:
    return Call("GET", source_path(), page_of(IngestSource.from_json), query(**o))


@options_checked
def create_source(name: str, type: str, **o: Unpack[SourceOptions]) -> Call[IngestSource]:
    data = _source_body(name, type, o)
    data.update(
        body(
            allowedIps=o.get("allowed_ips"),
            rateLimit=o.get("rate_limit"),
            destinations=_destinations_body(o.get("destinations")),
        )
    )
    return Call("POST", source_path(), IngestSource.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_source(source_id: str) -> Call[IngestSource]:
    return Call("GET", source_path(source_id), IngestSource.from_json)


@options_checked
def update_source(source_id: str, name: str, type: str, **o: Unpack[SourceUpdateOptions]) -> Call[IngestSource]:
    """Replace the source (``PUT``), or create it with ``source_id`` as its uid."""
    data = _source_body(name, type, o)
    data.update(_given(o, {"allowed_ips": "allowedIps", "rate_limit": "rateLimit"}))
    return Call("PUT", source_path(source_id), IngestSource.from_json, body=data)


@options_checked
def patch_source(source_id: str, **o: Unpack[SourceChanges]) -> Call[IngestSource]:
    """Change only the given fields (``PATCH``); None removes one (``rate_limit=None``: no limit)."""
    data = changes(o, _SOURCE_FIELDS)
    if data.get("response") is not None:
        data["response"] = _response_body(data["response"])
    return Call("PATCH", source_path(source_id), IngestSource.from_json, body=data)


def delete_source(source_id: str) -> Call[None]:
    return Call("DELETE", source_path(source_id), empty)


def rotate_source_token(source_id: str) -> Call[str]:
    """A new ingest URL (answered); the previous one keeps working for 24 hours."""
    return Call("POST", source_path(source_id) + "/token/rotate", ingest_url, headers=creating(None))


@options_checked
def list_destinations(source_id: str, **o: Unpack[OrderedPaging]) -> Call[Page[IngestDestination]]:
    return Call("GET", source_path(source_id, "endpoint"), page_of(IngestDestination.from_json), query(**o))


@options_checked
def create_destination(source_id: str, url: str, **o: Unpack[DestinationOptions]) -> Call[IngestDestination]:
    path, data = source_path(source_id, "endpoint"), endpoint_body(url, o)
    return Call("POST", path, IngestDestination.from_json, body=data, headers=creating(o.get("idempotency_key")))


def get_destination(source_id: str, endpoint_id: str) -> Call[IngestDestination]:
    return Call("GET", source_path(source_id, "endpoint", endpoint_id), IngestDestination.from_json)


@options_checked
def update_destination(
    source_id: str, endpoint_id: str, url: str, **o: Unpack[DestinationFields]
) -> Call[IngestDestination]:
    """Replace the destination (``PUT``), or create it with ``endpoint_id`` as its uid. Left out,
    ``uid`` and ``path_forwarding_disabled`` stay as they are (``uid=None`` removes the uid);
    every other field left out is reset."""
    data = endpoint_body(url, o)
    data.update(_given(o, {"uid": "uid", "path_forwarding_disabled": "pathForwardingDisabled"}))
    return Call("PUT", source_path(source_id, "endpoint", endpoint_id), IngestDestination.from_json, body=data)


@options_checked
def patch_destination(source_id: str, endpoint_id: str, **o: Unpack[DestinationChanges]) -> Call[IngestDestination]:
    """Change only the given fields (``PATCH``), as :func:`patch_endpoint` does."""
    data = changes(o, _DESTINATION_FIELDS)
    return Call("PATCH", source_path(source_id, "endpoint", endpoint_id), IngestDestination.from_json, body=data)


def delete_destination(source_id: str, endpoint_id: str) -> Call[None]:
    return Call("DELETE", source_path(source_id, "endpoint", endpoint_id), empty)


def get_destination_secret(source_id: str, endpoint_id: str) -> Call[EndpointSecret]:
    return Call("GET", source_path(source_id, "endpoint", endpoint_id) + "/secret", EndpointSecret.from_json)


def rotate_destination_secret(
    source_id: str,
    endpoint_id: str,
    key: str | None = None,
    grace_period_seconds: int | None = None,
    *,
    key_type: KeyType | None = None,
) -> Call[None]:
    """A new signing secret; unlike an app endpoint's, the API does not answer it (Svix Ingest's shape)."""
    path = source_path(source_id, "endpoint", endpoint_id) + "/secret/rotate"
    data = body(key=key, gracePeriodSeconds=grace_period_seconds, keyType=key_type)
    return Call("POST", path, empty, body=data, headers=creating(None))


@options_checked
def list_ingest_requests(source_id: str, **o: Unpack[IngestRequestListOptions]) -> Call[Page[IngestRequest]]:
    return Call("GET", source_path(source_id, "request"), page_of(IngestRequest.from_json), query(**o))


def get_ingest_request(source_id: str, request_id: str) -> Call[IngestRequestDetail]:
    return Call("GET", source_path(source_id, "request", request_id), IngestRequestDetail.from_json)


def replay_ingest_request(source_id: str, request_id: str) -> Call[None]:
    path = source_path(source_id, "request", request_id) + "/replay"
    return Call("POST", path, empty, headers=creating(None))


def replay_ingest_range(source_id: str, since: datetime, until: datetime) -> Call[IngestReplay]:
    data = {"since": since.isoformat(), "until": until.isoformat()}
    return Call("POST", source_path(source_id) + "/replay", IngestReplay.from_json, body=data, headers=creating(None))
