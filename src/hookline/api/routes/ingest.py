"""/ingest/api/v1/source: the inbound gateway's management API (Svix Ingest's shape), operator only.

Sources, their destinations (``/endpoint``, Svix's ingest endpoints) and, as hookline's
additions, the requests a source received (``/request``) and replaying them.
"""

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from hookline.api.deps import Auth, Ctx, EndpointId, IdempotencyKey, Iterator, Limit, Order, When, to_ms
from hookline.api.routes.endpoints import endpoint_out
from hookline.api.schemas import (
    AnswerContentType,
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointUpdate,
    ListResponse,
    Metadata,
    Model,
    Uid,
    bodyless,
    ms_to_datetime,
)
from hookline.domain.ingest import Received, Source
from hookline.domain.model import Endpoint
from hookline.errors import NotFound
from hookline.services import endpoints, ingest, ingest_config
from hookline.services.context import Context


async def _operator(who: Auth) -> None:
    """Ingest is the operator's: refused to application-scoped tokens before anything is read."""
    who.require_admin()


router = APIRouter(prefix="/ingest/api/v1/source", tags=["Ingest"], dependencies=[Depends(_operator)])
SourceId = Annotated[
    str, Path(description="The source's id or uid", min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9\-_.]+$")
]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]
SourceType = Annotated[str, Field(description=f"One of: {', '.join(ingest_config.TYPES)}")]


class SourceResponse(Model):
    """What a sender gets for a request the source accepts (hookline's addition)."""

    model_config = ConfigDict(extra="forbid")
    status_code: Annotated[int, Field(ge=200, le=299)] = 200
    content_type: AnswerContentType = "text/plain"
    body: Annotated[str, StringConstraints(max_length=1000)] = ""

    _bodyless = bodyless("status_code")


SourceName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]


class IngestSourceIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: SourceName
    uid: Uid | None = None
    metadata: Metadata | None = None
    type: SourceType
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The type's settings, with its secret. A provider's `secret` may be left out until the"
        " provider shows it (Stripe does once it has the ingest URL): the source then waits for it"
        " (`awaitingSecret`); github and hubspot without one are not verified",
    )
    response: SourceResponse | None = Field(default=None, description="The answer to an accepted request")
    allowed_ips: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None,
        max_length=100,
        description="hookline's addition: CIDRs requests may come from (403 otherwise); null: anywhere."
        " Left as it is when not given",
    )
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=ingest.MAX_RATE_LIMIT,
        description="hookline's addition: requests per second, with a burst of the same size (429 past it);"
        " null: no limit. Left as it is when not given",
    )


PATH_FORWARDING_DOC = (
    "hookline's addition (Hookdeck's `path_forwarding_disabled`): false (the default), a request to"
    " `/in/{token}/orders/paid?shop=x` goes to this URL with `/orders/paid` after its path and `shop=x`"
    " after its query; true, to this URL as it is. Left as it is when a PUT does not give it"
)


class DestinationUpdate(EndpointUpdate):
    path_forwarding_disabled: StrictBool = Field(default=False, description=PATH_FORWARDING_DOC)


class DestinationPatch(EndpointPatch):
    """hookline's addition: change only the fields given, as the app endpoint PATCH does."""

    path_forwarding_disabled: StrictBool | None = Field(default=None, description=PATH_FORWARDING_DOC)


def patched_fields(body: DestinationPatch) -> dict[str, Any]:
    """The changes a destination PATCH (or the dashboard's edit form) gives, as ``endpoints.update`` takes them."""
    return endpoints.patch_changes(body.model_dump(exclude_unset=True))


class DestinationIn(EndpointIn):
    path_forwarding_disabled: StrictBool = Field(default=False, description=PATH_FORWARDING_DOC)


class DestinationOut(EndpointOut):
    path_forwarding_disabled: bool = Field(default=False, description=PATH_FORWARDING_DOC)


def _destination_out(endpoint: Endpoint) -> DestinationOut:
    out = endpoint_out(endpoint).model_dump()
    return DestinationOut(**out, path_forwarding_disabled=endpoint.path_forwarding_disabled)


class IngestSourceCreateIn(IngestSourceIn):
    destinations: list[DestinationIn] | None = Field(
        default=None,
        max_length=100,
        description="hookline's addition: destinations made with the source, in the same transaction:"
        " if one is refused (422 naming it), neither the source nor any destination is made",
    )


class IngestSourcePatch(Model):
    """hookline's addition: change only the fields given, checked as a PUT checks the whole source;
    `null` removes the uid, the custom response, the allow-list or the limit."""

    model_config = ConfigDict(extra="forbid")
    name: SourceName | None = None
    uid: Uid | None = None
    metadata: Metadata | None = Field(default=None, description="Replaces the metadata; null: none")
    type: SourceType | None = Field(default=None, description="With `config` unless the current one fits it")
    config: dict[str, Any] | None = Field(default=None, description="The whole config of the (new) type")
    response: SourceResponse | None = Field(default=None, description="The answer to an accepted request")
    allowed_ips: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=100, description="CIDRs requests may come from (403 otherwise); null: anywhere"
    )
    rate_limit: int | None = Field(
        default=None, ge=1, le=ingest.MAX_RATE_LIMIT, description="Requests per second (burst the same); null: none"
    )


class IngestSourceOut(Model):
    id: str
    uid: str | None
    name: str
    ingest_url: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, str]
    type: str
    config: dict[str, Any] = Field(description="The config without its secrets")
    response: SourceResponse | None = None
    allowed_ips: list[str] | None = Field(default=None, description="CIDRs requests may come from; null: anywhere")
    rate_limit: int | None = Field(default=None, description="Requests per second (burst the same); null: none")
    awaiting_secret: bool = Field(
        description="hookline's addition, read-only: true while a provider source (Stripe, Slack...; not github,"
        " hubspot, generic-webhook) has no `config.secret`. Every request is then stored as rejected and"
        " answered 401, so the provider retries, and none is forwarded: give the secret (PATCH `config`),"
        " then replay what was rejected meanwhile",
        json_schema_extra={"readOnly": True},
    )


class RotateTokenOut(Model):
    ingest_url: str


class IngestRequestOut(Model):
    id: str
    status: str = Field(description="accepted, rejected or duplicate")
    cause: str | None = Field(description="Why it was rejected")
    dedup_key: str | None
    msg_id: str | None = Field(description="The message it became (accepted requests)")
    method: str
    path: str
    query: str
    client: str | None
    size: int
    received_at: datetime


class IngestRequestDetailOut(IngestRequestOut):
    headers: list[list[str]] = Field(description="[name, value] pairs, in the order received")
    body: str | None = Field(description="The body as UTF-8 text, when it is")
    body_base64: str


class ReplayRangeIn(Model):
    model_config = ConfigDict(extra="forbid")
    since: datetime
    until: datetime


class ReplayRangeOut(Model):
    forwarded: int = Field(description="Requests sent again to at least one destination")
    unrouted: int = Field(description="Requests that pass verification but that no destination takes now")
    rejected: int = Field(description="Requests that still fail verification")
    causes: list[str] = Field(description="Why each rejected one fails")


def _source_out(ctx: Context, source: Source) -> IngestSourceOut:
    config = ingest.config_of(ctx, source)
    return IngestSourceOut(
        id=source.id,
        uid=source.uid,
        name=source.name,
        ingest_url=ingest.ingest_url(ctx, source),
        created_at=ms_to_datetime(source.created_at),
        updated_at=ms_to_datetime(source.updated_at),
        metadata=source.metadata,
        type=source.type,
        config=ingest_config.public(source.type, config),
        response=SourceResponse(**source.response) if source.response else None,
        allowed_ips=None if source.allowed_ips is None else list(source.allowed_ips),
        rate_limit=source.rate_limit,
        awaiting_secret=ingest_config.awaiting_secret(source.type, config),
    )


def _fields(body: IngestSourceIn) -> ingest.SourceFields:
    return ingest.SourceFields(
        name=body.name,
        type=body.type,
        config=body.config,
        uid=body.uid,
        metadata=body.metadata or {},
        response=body.response.model_dump(by_alias=True) if body.response else None,
        allowed_ips=body.allowed_ips,
        rate_limit=body.rate_limit,
        unchanged=frozenset({"allowed_ips", "rate_limit"} - body.model_fields_set),
    )


def _request_out(received: Received) -> dict[str, Any]:
    req = received.request
    return {
        "id": received.id,
        "status": received.status,
        "cause": received.cause,
        "dedup_key": received.dedup_key,
        "msg_id": received.msg_id,
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "client": req.client,
        "size": len(req.body),
        "received_at": ms_to_datetime(req.received_at),
    }


# -- sources -------------------------------------------------------------------
@router.get("", response_model=ListResponse[IngestSourceOut], operation_id="v1.ingest.source.list")
async def list_sources(
    ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[IngestSourceOut]:
    page = await ingest.page(ctx, limit=limit, iterator=iterator, descending=order == "descending")
    return ListResponse(
        data=[_source_out(ctx, s) for s in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=IngestSourceOut, operation_id="v1.ingest.source.create")
async def create_source(
    body: IngestSourceCreateIn, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> IngestSourceOut:
    destinations = [
        ingest.Destination(d.model_dump(exclude={"secret", "headers", "key_type"}), d.secret, d.key_type, d.headers)
        for d in body.destinations or ()
    ]
    return _source_out(ctx, await ingest.create(ctx, _fields(body), destinations))


@router.get("/{source_id}", response_model=IngestSourceOut, operation_id="v1.ingest.source.get")
async def get_source(source_id: SourceId, ctx: Ctx) -> IngestSourceOut:
    return _source_out(ctx, await ingest.get(ctx, source_id))


@router.put("/{source_id}", response_model=IngestSourceOut, operation_id="v1.ingest.source.update")
async def upsert_source(source_id: SourceId, body: IngestSourceIn, ctx: Ctx, response: Response) -> IngestSourceOut:
    source, created = await ingest.upsert(ctx, source_id, _fields(body))
    if created:
        response.status_code = 201
    return _source_out(ctx, source)


@router.patch("/{source_id}", response_model=IngestSourceOut, operation_id="hookline.ingest.source.patch")
async def patch_source(source_id: SourceId, body: IngestSourcePatch, ctx: Ctx) -> IngestSourceOut:
    """Change the fields given, leaving the rest (and the secrets, unless `config` is given) as they are."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if body.response is not None:
        changes["response"] = body.response.model_dump(by_alias=True)
    return _source_out(ctx, await ingest.patch(ctx, source_id, changes))


@router.delete("/{source_id}", status_code=204, response_class=Response, operation_id="v1.ingest.source.delete")
async def delete_source(source_id: SourceId, ctx: Ctx) -> None:
    await ingest.delete(ctx, source_id)


@router.post("/{source_id}/token/rotate", response_model=RotateTokenOut, operation_id="v1.ingest.source.rotate-token")
async def rotate_token(source_id: SourceId, ctx: Ctx, idempotency_key: IdempotencyKey = None) -> RotateTokenOut:
    """A new ingest URL; the previous one keeps working for 24 hours."""
    return RotateTokenOut(ingest_url=ingest.ingest_url(ctx, await ingest.rotate_token(ctx, source_id)))


# -- destinations (Svix's ingest endpoints) -------------------------------------
@router.get(
    "/{source_id}/endpoint", response_model=ListResponse[DestinationOut], operation_id="v1.ingest.endpoint.list"
)
async def list_destinations(
    source_id: SourceId, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[DestinationOut]:
    app_id = await ingest.app_of(ctx, source_id)
    page = await endpoints.page(
        ctx, app_id, tenant=None, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return ListResponse(
        data=[_destination_out(e) for e in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post(
    "/{source_id}/endpoint", status_code=201, response_model=DestinationOut, operation_id="v1.ingest.endpoint.create"
)
async def create_destination(
    source_id: SourceId, body: DestinationIn, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> DestinationOut:
    app_id = await ingest.app_of(ctx, source_id)
    fields = body.model_dump(exclude={"secret", "headers", "key_type"})
    created = await endpoints.create(
        ctx, app_id, fields, secret=body.secret, key_type=body.key_type, headers=body.headers, tenant=None
    )
    return _destination_out(created)


@router.get("/{source_id}/endpoint/{endpoint_id}", response_model=DestinationOut, operation_id="v1.ingest.endpoint.get")
async def get_destination(source_id: SourceId, endpoint_id: EndpointId, ctx: Ctx) -> DestinationOut:
    app_id = await ingest.app_of(ctx, source_id)
    return _destination_out(await endpoints.get(ctx, app_id, endpoint_id, tenant=None))


@router.put(
    "/{source_id}/endpoint/{endpoint_id}", response_model=DestinationOut, operation_id="v1.ingest.endpoint.update"
)
async def upsert_destination(
    source_id: SourceId, endpoint_id: EndpointId, body: DestinationUpdate, ctx: Ctx, response: Response
) -> DestinationOut:
    app_id = await ingest.app_of(ctx, source_id)
    fields = body.model_dump()
    try:
        await endpoints.get(ctx, app_id, endpoint_id, tenant=None)
    except NotFound:
        fields["uid"] = fields.get("uid") or endpoint_id
        response.status_code = 201
        created = await endpoints.create(ctx, app_id, fields, secret=None, key_type="hmac", headers=None, tenant=None)
        return _destination_out(created)
    # Not given, they stay: the svix SDK's upsert knows neither.
    for name in {"uid", "path_forwarding_disabled"} - body.model_fields_set:
        fields.pop(name)
    return _destination_out(await endpoints.update(ctx, app_id, endpoint_id, fields, tenant=None))


@router.patch(
    "/{source_id}/endpoint/{endpoint_id}",
    response_model=DestinationOut,
    operation_id="hookline.ingest.endpoint.patch",
)
async def patch_destination(
    source_id: SourceId, endpoint_id: EndpointId, body: DestinationPatch, ctx: Ctx
) -> DestinationOut:
    """Change the fields given, keeping the destination's id, secret, headers and attempts."""
    app_id = await ingest.app_of(ctx, source_id)
    return _destination_out(await endpoints.update(ctx, app_id, endpoint_id, patched_fields(body), tenant=None))


@router.delete(
    "/{source_id}/endpoint/{endpoint_id}",
    status_code=204,
    response_class=Response,
    operation_id="v1.ingest.endpoint.delete",
)
async def delete_destination(source_id: SourceId, endpoint_id: EndpointId, ctx: Ctx) -> None:
    await endpoints.delete(ctx, await ingest.app_of(ctx, source_id), endpoint_id, tenant=None)


@router.get(
    "/{source_id}/endpoint/{endpoint_id}/secret",
    response_model=EndpointSecretOut,
    operation_id="v1.ingest.endpoint.get-secret",
)
async def get_destination_secret(source_id: SourceId, endpoint_id: EndpointId, ctx: Ctx) -> EndpointSecretOut:
    app_id = await ingest.app_of(ctx, source_id)
    return EndpointSecretOut(key=await endpoints.secret(ctx, app_id, endpoint_id, tenant=None))


@router.post(
    "/{source_id}/endpoint/{endpoint_id}/secret/rotate",
    status_code=204,
    response_class=Response,
    operation_id="v1.ingest.endpoint.rotate-secret",
)
async def rotate_destination_secret(
    source_id: SourceId,
    endpoint_id: EndpointId,
    body: EndpointSecretRotateIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> None:
    app_id = await ingest.app_of(ctx, source_id)
    await endpoints.rotate_secret(
        ctx,
        app_id,
        endpoint_id,
        key=body.key,
        key_type=body.key_type,
        grace_seconds=body.grace_period_seconds,
        tenant=None,
    )


@router.get(
    "/{source_id}/endpoint/{endpoint_id}/headers",
    response_model=EndpointHeadersOut,
    operation_id="v1.ingest.endpoint.get-headers",
)
async def get_destination_headers(source_id: SourceId, endpoint_id: EndpointId, ctx: Ctx) -> EndpointHeadersOut:
    endpoint = await endpoints.get(ctx, await ingest.app_of(ctx, source_id), endpoint_id, tenant=None)
    visible, sensitive = endpoints.split_sensitive(endpoint.headers)
    return EndpointHeadersOut(headers=visible, sensitive=sensitive)


@router.put(
    "/{source_id}/endpoint/{endpoint_id}/headers",
    status_code=204,
    response_class=Response,
    operation_id="v1.ingest.endpoint.update-headers",
)
async def set_destination_headers(
    source_id: SourceId, endpoint_id: EndpointId, body: EndpointHeadersIn, ctx: Ctx
) -> None:
    await endpoints.replace_headers(ctx, await ingest.app_of(ctx, source_id), endpoint_id, body.headers, tenant=None)


# -- received requests (hookline's additions) -----------------------------------
@router.get(
    "/{source_id}/request", response_model=ListResponse[IngestRequestOut], operation_id="hookline.ingest.request.list"
)
async def list_requests(
    source_id: SourceId,
    ctx: Ctx,
    limit: Limit = 50,
    iterator: Iterator = None,
    status: Annotated[Literal["accepted", "rejected", "duplicate"] | None, Query()] = None,
    since: When = None,
    until: When = None,
) -> ListResponse[IngestRequestOut]:
    """What the source received, newest first."""
    page = await ingest.requests(
        ctx, source_id, status=status, since=to_ms(since), until=to_ms(until), limit=limit, iterator=iterator
    )
    return ListResponse(
        data=[IngestRequestOut(**_request_out(r)) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.get(
    "/{source_id}/request/{request_id}",
    response_model=IngestRequestDetailOut,
    operation_id="hookline.ingest.request.get",
)
async def get_request(source_id: SourceId, request_id: RequestId, ctx: Ctx) -> IngestRequestDetailOut:
    received = await ingest.request(ctx, source_id, request_id)
    body = received.request.body
    try:
        text: str | None = body.decode()
    except UnicodeDecodeError:
        text = None
    return IngestRequestDetailOut(
        **_request_out(received),
        headers=[[k, v] for k, v in received.request.headers],
        body=text,
        body_base64=base64.b64encode(body).decode(),
    )


@router.post(
    "/{source_id}/request/{request_id}/replay",
    status_code=202,
    response_class=Response,
    operation_id="hookline.ingest.request.replay",
)
async def replay_request(source_id: SourceId, request_id: RequestId, ctx: Ctx) -> None:
    """Forward the request again to the destinations that take it now (their event types and
    filters, as for a request arriving now); a rejected one once it passes verification with the
    source's current config (409 while it does not)."""
    await ingest.replay(ctx, source_id, request_id)


@router.post("/{source_id}/replay", response_model=ReplayRangeOut, operation_id="hookline.ingest.source.replay")
async def replay_range(source_id: SourceId, body: ReplayRangeIn, ctx: Ctx) -> ReplayRangeOut:
    """Forward again every request received in [since, until) (duplicates excepted; at most 1000)."""
    since, until = to_ms(body.since), to_ms(body.until)
    assert since is not None and until is not None
    done = await ingest.replay_range(ctx, source_id, since, until)
    return ReplayRangeOut(
        forwarded=done.forwarded, unrouted=done.unrouted, rejected=done.rejected, causes=list(done.causes)
    )
