"""/api/v1/app/{app}/endpoint: endpoints, their secrets and custom headers."""

from fastapi import APIRouter, Response
from pydantic import Field

from hookline.api.deps import AppId, Auth, Ctx, EndpointId, IdempotencyKey, Iterator, Limit, Order, When, to_ms
from hookline.api.routes.messages import message_out
from hookline.api.schemas import (
    EndpointDetailOut,
    EndpointFilterTestIn,
    EndpointFilterTestOut,
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointPublicKeyOut,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointUpdate,
    EventExampleIn,
    FifoSkipIn,
    FifoSkipOut,
    ListResponse,
    MessageOut,
    Model,
    ms_to_datetime,
)
from hookline.domain.model import DeliveryStatus, Endpoint
from hookline.services import endpoints, payload_filters, publishing
from hookline.services.context import Context

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"])


def endpoint_out(endpoint: Endpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        uid=endpoint.uid,
        url=endpoint.url,
        description=endpoint.description,
        event_types=endpoint.event_types,
        filter_types=endpoint.event_types,
        channels=endpoint.channels,
        disabled=endpoint.disabled,
        metadata=endpoint.metadata,
        throttle_rate=endpoint.throttle_rate,
        filter=endpoint.filter,
        fifo=endpoint.fifo,
        fifo_on_exhausted=endpoint.fifo_on_exhausted,
        created_at=ms_to_datetime(endpoint.created_at),
        updated_at=ms_to_datetime(endpoint.updated_at),
    )


async def _detail(ctx: Context, endpoint: Endpoint) -> EndpointDetailOut:
    out = endpoint_out(endpoint)
    return EndpointDetailOut(**out.model_dump(), warnings=await endpoints.warnings(ctx, endpoint))


@router.get("", response_model=ListResponse[EndpointOut], operation_id="v1.endpoint.list")
async def list_endpoints(
    app_id: AppId, who: Auth, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[EndpointOut]:
    page = await endpoints.page(
        ctx, app_id, tenant=who.app_id, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return ListResponse(
        data=[endpoint_out(r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=EndpointDetailOut, operation_id="v1.endpoint.create")
async def create_endpoint(
    app_id: AppId, body: EndpointIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> EndpointDetailOut:
    fields = body.model_dump(exclude={"secret", "headers", "key_type"})
    created = await endpoints.create(
        ctx, app_id, fields, secret=body.secret, key_type=body.key_type, headers=body.headers, tenant=who.app_id
    )
    return await _detail(ctx, created)


@router.get("/{endpoint_id}", response_model=EndpointDetailOut, operation_id="v1.endpoint.get")
async def get_endpoint(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> EndpointDetailOut:
    return await _detail(ctx, await endpoints.get(ctx, app_id, endpoint_id, tenant=who.app_id))


@router.put(
    "/{endpoint_id}",
    response_model=EndpointDetailOut,
    operation_id="v1.endpoint.update",
    responses={201: {"model": EndpointDetailOut, "description": "Created (the endpoint was missing)"}},
)
async def update_endpoint(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointUpdate, who: Auth, ctx: Ctx, response: Response
) -> EndpointDetailOut:
    """Update the endpoint, or create it (201) with ``endpoint_id`` as its uid when missing."""
    fields = body.model_dump()
    if "uid" not in body.model_fields_set:
        fields.pop("uid")  # keep the uid the caller may be addressing it by
    endpoint, created = await endpoints.upsert(ctx, app_id, endpoint_id, fields, tenant=who.app_id)
    if created:
        response.status_code = 201
    return await _detail(ctx, endpoint)


@router.patch("/{endpoint_id}", response_model=EndpointDetailOut, operation_id="v1.endpoint.patch")
async def patch_endpoint(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointPatch, who: Auth, ctx: Ctx
) -> EndpointDetailOut:
    fields = endpoints.patch_changes(body.model_dump(exclude_unset=True))
    return await _detail(ctx, await endpoints.update(ctx, app_id, endpoint_id, fields, tenant=who.app_id))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, operation_id="v1.endpoint.delete")
async def delete_endpoint(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> None:
    await endpoints.delete(ctx, app_id, endpoint_id, tenant=who.app_id)


@router.get("/{endpoint_id}/secret", response_model=EndpointSecretOut, operation_id="v1.endpoint.get-secret")
async def get_endpoint_secret(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> EndpointSecretOut:
    return EndpointSecretOut(key=await endpoints.secret(ctx, app_id, endpoint_id, tenant=who.app_id))


@router.post("/{endpoint_id}/secret/rotate", response_model=EndpointSecretOut, operation_id="v1.endpoint.rotate-secret")
async def rotate_endpoint_secret(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: EndpointSecretRotateIn,
    who: Auth,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> EndpointSecretOut:
    """Make a new secret current (returned); the old one keeps signing for the grace period."""
    key = await endpoints.rotate_secret(
        ctx,
        app_id,
        endpoint_id,
        key=body.key,
        key_type=body.key_type,
        grace_seconds=body.grace_period_seconds,
        tenant=who.app_id,
    )
    return EndpointSecretOut(key=key)


@router.get("/{endpoint_id}/public-key", response_model=EndpointPublicKeyOut, operation_id="v1.endpoint.get-public-key")
async def get_endpoint_public_key(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> EndpointPublicKeyOut:
    """The public key of an endpoint that signs with Ed25519 (``v1a``): receivers verify
    with it and never hold the secret. 409 for an endpoint that signs with HMAC."""
    return EndpointPublicKeyOut(key=await endpoints.public_key(ctx, app_id, endpoint_id, tenant=who.app_id))


@router.get("/{endpoint_id}/headers", response_model=EndpointHeadersOut, operation_id="v1.endpoint.get-headers")
async def get_endpoint_headers(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> EndpointHeadersOut:
    endpoint = await endpoints.get(ctx, app_id, endpoint_id, tenant=who.app_id)
    visible, sensitive = endpoints.split_sensitive(endpoint.headers)
    return EndpointHeadersOut(headers=visible, sensitive=sensitive)


@router.put(
    "/{endpoint_id}/headers", status_code=204, response_class=Response, operation_id="v1.endpoint.update-headers"
)
async def update_endpoint_headers(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointHeadersIn, who: Auth, ctx: Ctx
) -> None:
    await endpoints.replace_headers(ctx, app_id, endpoint_id, body.headers, tenant=who.app_id)


@router.patch(
    "/{endpoint_id}/headers", status_code=204, response_class=Response, operation_id="v1.endpoint.patch-headers"
)
async def patch_endpoint_headers(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointHeadersPatchIn, who: Auth, ctx: Ctx
) -> None:
    await endpoints.patch_headers(ctx, app_id, endpoint_id, body.headers, body.delete_headers or [], tenant=who.app_id)


class EndpointAttemptStatsOut(Model):
    success: int
    fail: int
    canceled: int = Field(description="Always 0: hookline never cancels an attempt")


@router.get(
    "/{endpoint_id}/attempt-stats",
    response_model=EndpointAttemptStatsOut,
    operation_id="v1.endpoint.get-attempt-stats",
)
async def get_attempt_stats(
    app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx, since: When = None, until: When = None
) -> EndpointAttemptStatsOut:
    """The endpoint's attempts made in ``[since, until)`` (default: all), by outcome."""
    counts = await endpoints.attempt_stats(
        ctx, app_id, endpoint_id, since_ms=to_ms(since), until_ms=to_ms(until), tenant=who.app_id
    )
    return EndpointAttemptStatsOut(success=counts[DeliveryStatus.SUCCESS], fail=counts[DeliveryStatus.FAIL], canceled=0)


@router.post("/{endpoint_id}/send-example", response_model=MessageOut, operation_id="v1.endpoint.send-example")
async def send_example(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: EventExampleIn,
    who: Auth,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> MessageOut:
    message = await publishing.send_example(
        ctx,
        app_id,
        endpoint_id,
        body.event_type,
        example_index=body.example_index,
        payload=body.payload,
        tenant=who.app_id,
    )
    return message_out(message)


@router.post(
    "/{endpoint_id}/filter/test", response_model=EndpointFilterTestOut, operation_id="hookline.endpoint.test-filter"
)
async def test_endpoint_filter(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointFilterTestIn, who: Auth, ctx: Ctx
) -> EndpointFilterTestOut:
    """hookline: whether the endpoint's payload filter (or ``filter``, tried without storing it)
    matches a message with this payload, event type and channels. Nothing is sent."""
    doc = payload_filters.document(body.event_type or "", body.channels, body.payload)
    matched, tried = await endpoints.test_filter(
        ctx, app_id, endpoint_id, doc, candidate=body.filter, tenant=who.app_id
    )
    return EndpointFilterTestOut(matches=matched, filter=tried)


@router.post("/{endpoint_id}/fifo/skip-head", response_model=FifoSkipOut, operation_id="hookline.endpoint.fifo-skip")
async def skip_fifo_head(app_id: AppId, endpoint_id: EndpointId, body: FifoSkipIn, who: Auth, ctx: Ctx) -> FifoSkipOut:
    """hookline: let a FIFO order blocked by an exhausted message (fifoOnExhausted: block) go
    on without it: the next message is sent. To retry the message instead, resend it."""
    skipped = await endpoints.skip_fifo_head(ctx, app_id, endpoint_id, body.msg_id, tenant=who.app_id)
    return FifoSkipOut(skipped=skipped)
