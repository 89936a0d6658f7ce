"""/api/v1/operational-webhook/endpoint: where hookline sends its own events (admin only).

Svix's ``operational_webhook.endpoint.*``. The events are those hookline emits
(``endpoint.created`` / ``updated`` / ``deleted`` / ``disabled``, ``message.attempt.exhausted``,
``message.attempt.failing``, ``message.attempt.recovered``); ``eventTypes`` narrows them.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import ConfigDict, Field

from hookline.api.deps import Auth, Ctx, IdempotencyKey, Iterator, Limit, Order
from hookline.api.schemas import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointSecretOut,
    EventTypes,
    Headers,
    ListResponse,
    Metadata,
    Model,
    Name,
    Rate,
    Secret,
    Text,
    Url,
    ms_to_datetime,
)
from hookline.domain.model import Endpoint
from hookline.services import operational_endpoints as ops
from hookline.services.endpoints import split_sensitive

router = APIRouter(prefix="/api/v1/operational-webhook/endpoint", tags=["Webhook Endpoint"])
OpEndpointId = Annotated[
    str, Path(description="The endpoint's id or uid", min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9\-_.]+$")
]


class OperationalEndpointUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    url: Url
    description: Text = ""
    uid: Name | None = None
    event_types: EventTypes | None = Field(default=None, alias="eventTypes")
    disabled: bool = False
    metadata: Metadata = Field(default_factory=dict)
    throttle_rate: Rate | None = None


class OperationalEndpointIn(OperationalEndpointUpdate):
    secret: Secret = None
    headers: Headers | None = None


class OperationalEndpointOut(Model):
    id: str
    uid: str | None
    url: str
    description: str
    event_types: list[str] | None = Field(alias="eventTypes")
    disabled: bool
    metadata: dict[str, str]
    throttle_rate: int | None
    created_at: datetime
    updated_at: datetime


class OperationalSecretIn(Model):
    model_config = ConfigDict(extra="forbid")
    key: Secret = None
    grace_period_seconds: Annotated[int, Field(ge=0, le=604800)] | None = None


def _out(e: Endpoint) -> OperationalEndpointOut:
    return OperationalEndpointOut(
        id=e.id,
        uid=e.uid,
        url=e.url,
        description=e.description,
        event_types=e.event_types,
        disabled=e.disabled,
        metadata=e.metadata,
        throttle_rate=e.throttle_rate,
        created_at=ms_to_datetime(e.created_at),
        updated_at=ms_to_datetime(e.updated_at),
    )


@router.get(
    "", response_model=ListResponse[OperationalEndpointOut], operation_id="v1.operational-webhook.endpoint.list"
)
async def list_operational_endpoints(
    who: Auth, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[OperationalEndpointOut]:
    who.require_admin()
    page = await ops.page(ctx, limit=limit, iterator=iterator, descending=order == "descending")
    return ListResponse(
        data=[_out(r) for r in page.rows], iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done
    )


@router.post(
    "",
    status_code=201,
    response_model=OperationalEndpointOut,
    operation_id="v1.operational-webhook.endpoint.create",
)
async def create_operational_endpoint(
    body: OperationalEndpointIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> OperationalEndpointOut:
    who.require_admin()
    fields = body.model_dump(exclude={"secret", "headers"})
    return _out(await ops.create(ctx, fields, secret=body.secret, headers=body.headers))


@router.get("/{endpoint_id}", response_model=OperationalEndpointOut, operation_id="v1.operational-webhook.endpoint.get")
async def get_operational_endpoint(endpoint_id: OpEndpointId, who: Auth, ctx: Ctx) -> OperationalEndpointOut:
    who.require_admin()
    return _out(await ops.get(ctx, endpoint_id))


@router.put(
    "/{endpoint_id}",
    response_model=OperationalEndpointOut,
    operation_id="v1.operational-webhook.endpoint.update",
    responses={201: {"model": OperationalEndpointOut, "description": "Created (the endpoint was missing)"}},
)
async def upsert_operational_endpoint(
    endpoint_id: OpEndpointId, body: OperationalEndpointUpdate, who: Auth, ctx: Ctx, response: Response
) -> OperationalEndpointOut:
    """Update the endpoint, or create it (201) with ``endpoint_id`` as its uid when missing."""
    who.require_admin()
    fields = body.model_dump()
    if "uid" not in body.model_fields_set:
        fields.pop("uid")
    endpoint, created = await ops.upsert(ctx, endpoint_id, fields)
    if created:
        response.status_code = 201
    return _out(endpoint)


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    response_class=Response,
    operation_id="v1.operational-webhook.endpoint.delete",
)
async def delete_operational_endpoint(endpoint_id: OpEndpointId, who: Auth, ctx: Ctx) -> None:
    who.require_admin()
    await ops.delete(ctx, endpoint_id)


@router.get(
    "/{endpoint_id}/headers",
    response_model=EndpointHeadersOut,
    operation_id="v1.operational-webhook.endpoint.get-headers",
)
async def get_operational_endpoint_headers(endpoint_id: OpEndpointId, who: Auth, ctx: Ctx) -> EndpointHeadersOut:
    who.require_admin()
    visible, sensitive = split_sensitive((await ops.get(ctx, endpoint_id)).headers)
    return EndpointHeadersOut(headers=visible, sensitive=sensitive)


@router.put(
    "/{endpoint_id}/headers",
    status_code=204,
    response_class=Response,
    operation_id="v1.operational-webhook.endpoint.update-headers",
)
async def set_operational_endpoint_headers(
    endpoint_id: OpEndpointId, body: EndpointHeadersIn, who: Auth, ctx: Ctx
) -> None:
    who.require_admin()
    await ops.replace_headers(ctx, endpoint_id, body.headers)


@router.get(
    "/{endpoint_id}/secret",
    response_model=EndpointSecretOut,
    operation_id="v1.operational-webhook.endpoint.get-secret",
)
async def get_operational_endpoint_secret(endpoint_id: OpEndpointId, who: Auth, ctx: Ctx) -> EndpointSecretOut:
    who.require_admin()
    return EndpointSecretOut(key=await ops.secret(ctx, endpoint_id))


@router.post(
    "/{endpoint_id}/secret/rotate",
    status_code=204,
    response_class=Response,
    operation_id="v1.operational-webhook.endpoint.rotate-secret",
)
async def rotate_operational_endpoint_secret(
    endpoint_id: OpEndpointId, body: OperationalSecretIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> None:
    """Make a new secret current; the old one keeps signing for the grace period (default a day)."""
    who.require_admin()
    await ops.rotate_secret(ctx, endpoint_id, key=body.key, grace_seconds=body.grace_period_seconds)
