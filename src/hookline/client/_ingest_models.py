"""What the ingest API (the receiving side) returns: sources, their destinations, the requests
they received and what a replay did; frozen dataclasses keeping their JSON in ``raw``, as
:mod:`hookline.client._models` does for the rest of the API."""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict, cast

from hookline.client._models import JSON, Endpoint, dict_of, endpoint_fields, json_kind, strings_of, time_of

IngestStatus = Literal["accepted", "rejected", "duplicate"]


class SourceResponse(TypedDict, total=False):
    """What a source answers a request it accepts: ``status_code`` (2xx, default 200),
    ``content_type`` (default ``text/plain``) and ``body`` (default empty)."""

    status_code: int
    content_type: str
    body: str


def _source_response(value: Any) -> SourceResponse | None:
    if not isinstance(value, Mapping):
        return None
    return SourceResponse(
        status_code=int(value.get("statusCode", 200)),
        content_type=str(value.get("contentType", "text/plain")),
        body=str(value.get("body", "")),
    )


@dataclass(frozen=True, kw_only=True)
class IngestSource:
    """An ingest URL providers post to, with how it verifies (``type``, ``config``) and answers."""

    id: str
    uid: str | None
    name: str
    ingest_url: str
    type: str
    config: dict[str, Any]  # without its secrets
    metadata: dict[str, str]
    response: SourceResponse | None
    allowed_ips: list[str] | None  # CIDRs requests may come from; None: anywhere
    rate_limit: int | None  # requests per second (burst the same); None: no limit
    awaiting_secret: bool  # a provider source without its secret: nothing is forwarded until it is given
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "IngestSource":
        return cls(
            id=data["id"],
            uid=data.get("uid"),
            name=data["name"],
            ingest_url=data["ingestUrl"],
            type=data["type"],
            config=dict_of(data.get("config")),
            metadata=dict_of(data.get("metadata")),
            response=_source_response(data.get("response")),
            allowed_ips=strings_of(data.get("allowedIps")),
            rate_limit=data.get("rateLimit"),
            awaiting_secret=bool(data.get("awaitingSecret", False)),
            created_at=time_of(data["createdAt"]),
            updated_at=time_of(data["updatedAt"]),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class IngestDestination(Endpoint):
    """Where a source forwards what it accepts: an endpoint, and whether the path below the
    ingest URL is left off (``path_forwarding_disabled``)."""

    path_forwarding_disabled: bool

    @classmethod
    def from_json(cls, data: JSON) -> "IngestDestination":
        forwarding = bool(data.get("pathForwardingDisabled", False))
        return cls(**endpoint_fields(data), path_forwarding_disabled=forwarding)


def _request_fields(data: JSON) -> dict[str, Any]:
    return {
        "id": data["id"],
        "status": cast(IngestStatus, data["status"]),
        "cause": data.get("cause"),
        "dedup_key": data.get("dedupKey"),
        "msg_id": data.get("msgId"),
        "method": data["method"],
        "path": data.get("path", ""),
        "query": data.get("query", ""),
        "client": data.get("client"),
        "size": int(data.get("size", 0)),
        "received_at": time_of(data["receivedAt"]),
        "raw": dict(data),
    }


@dataclass(frozen=True, kw_only=True)
class IngestRequest:
    """A request a source received, as stored: accepted (``msg_id`` is what it became),
    rejected (``cause`` says why) or a duplicate."""

    id: str
    status: IngestStatus
    cause: str | None
    dedup_key: str | None
    msg_id: str | None
    method: str
    path: str
    query: str
    client: str | None
    size: int
    received_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "IngestRequest":
        return cls(**_request_fields(data))


@dataclass(frozen=True, kw_only=True)
class IngestRequestDetail(IngestRequest):
    """A received request with its headers (in the order received) and body."""

    headers: list[tuple[str, str]]
    body: str | None  # the body as text, when it is UTF-8
    content: bytes  # the body's bytes

    @classmethod
    def from_json(cls, data: JSON) -> "IngestRequestDetail":
        return cls(
            **_request_fields(data),
            headers=[(str(name), str(value)) for name, value in data["headers"]],
            body=data.get("body"),
            content=base64.b64decode(data["bodyBase64"], validate=True),
        )


@dataclass(frozen=True, kw_only=True)
class IngestReplay:
    """What a range replay did: requests sent again to a destination (``forwarded``), passing
    but taken by none (``unrouted``), and still failing verification (``rejected``, ``causes``)."""

    forwarded: int
    unrouted: int
    rejected: int
    causes: list[str]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> "IngestReplay":
        return cls(
            forwarded=int(data["forwarded"]),
            unrouted=int(data["unrouted"]),
            rejected=int(data["rejected"]),
            causes=[str(c) for c in data.get("causes", ())],
            raw=dict(data),
        )


def ingest_url(data: JSON) -> str:
    """The answer to a token rotation: the source's new ingest URL."""
    url = data["ingestUrl"]
    if not isinstance(url, str):
        raise TypeError(f'its "ingestUrl" is {json_kind(url)}, not a string')
    return url
