"""/api/v1/app/{app}/endpoint/{ep}/transformation: the JavaScript an endpoint runs on each
request before it is signed and sent, in the shape of the svix SDK's endpoint.transformation."""

from fastapi import APIRouter, Response

from hookline.api.deps import AppId, Auth, Ctx, EndpointId
from hookline.api.schemas import (
    EndpointTransformationOut,
    EndpointTransformationPatch,
    EndpointTransformationSimulateIn,
    EndpointTransformationSimulateOut,
    TransformationErrorOut,
    ms_to_datetime,
)
from hookline.services import transformations
from hookline.transform import TransformError

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation", tags=["Endpoint"])


@router.get("", response_model=EndpointTransformationOut, operation_id="v1.endpoint.transformation-get")
async def get_transformation(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> EndpointTransformationOut:
    endpoint = await transformations.get(ctx, app_id, endpoint_id, tenant=who.app_id)
    return EndpointTransformationOut(
        code=endpoint.transformation_code,
        enabled=endpoint.transformation_enabled,
        updated_at=ms_to_datetime(endpoint.updated_at),
    )


@router.patch("", status_code=204, response_class=Response, operation_id="v1.endpoint.transformation-partial-update")
async def patch_transformation(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointTransformationPatch, who: Auth, ctx: Ctx
) -> None:
    """Set or unset the code (``code: null`` removes it) and switch it on or off.
    Code over 50 KB gets a 413."""
    changes = body.model_dump(exclude_unset=True)
    await transformations.patch(ctx, app_id, endpoint_id, changes, tenant=who.app_id)


@router.post(
    "/simulate",
    response_model=EndpointTransformationSimulateOut,
    operation_id="hookline.endpoint.transformation-simulate",
)
async def simulate_transformation(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointTransformationSimulateIn, who: Auth, ctx: Ctx
) -> EndpointTransformationSimulateOut:
    """hookline: run the code (or the endpoint's own) on a sample message with the same limits
    as a delivery, and return the request it would send, or the error. Nothing is sent."""
    result = await transformations.simulate(
        ctx, app_id, endpoint_id, code=body.code, event_type=body.event_type, payload=body.payload, tenant=who.app_id
    )
    if isinstance(result, TransformError):
        return EndpointTransformationSimulateOut(
            ok=False, error=TransformationErrorOut(kind=result.kind, message=result.message)
        )
    return EndpointTransformationSimulateOut(
        ok=True,
        method=result.method,
        url=result.url,
        payload=result.payload,
        headers=result.headers,
        cancel=result.cancel,
    )
