"""/api/v1/app: applications."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hookline.api.deps import AppId, Auth, Ctx, IdempotencyKey, Iterator, Limit, Order
from hookline.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    ListResponse,
    ms_to_datetime,
)
from hookline.domain.model import AppExclusions, Application
from hookline.services import applications

router = APIRouter(prefix="/api/v1/app", tags=["Application"])


def app_out(app: Application) -> ApplicationOut:
    return ApplicationOut(
        id=app.id,
        uid=app.uid,
        name=app.name,
        metadata=app.metadata,
        throttle_rate=app.throttle_rate,
        created_at=ms_to_datetime(app.created_at),
        updated_at=ms_to_datetime(app.updated_at),
    )


def _fields(body: ApplicationIn | ApplicationPatch, *, partial: bool) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=partial)
    if partial and data.get("name") is None:
        data.pop("name", None)
    if partial and "metadata" in data and data["metadata"] is None:
        data["metadata"] = {}
    return data


@router.get("", response_model=ListResponse[ApplicationOut], operation_id="v1.application.list")
async def list_applications(
    who: Auth,
    ctx: Ctx,
    limit: Limit = 50,
    iterator: Iterator = None,
    order: Order = "ascending",
    exclude_apps_with_no_endpoints: Annotated[
        bool, Query(description="Leave out applications without endpoints")
    ] = False,
    exclude_apps_with_disabled_endpoints: Annotated[
        bool, Query(description="Leave out applications with a disabled endpoint")
    ] = False,
    exclude_apps_with_svix_play_endpoints: Annotated[
        bool, Query(description="Leave out applications with an endpoint on play.svix.com")
    ] = False,
) -> ListResponse[ApplicationOut]:
    exclude = AppExclusions(
        no_endpoints=exclude_apps_with_no_endpoints,
        disabled_endpoints=exclude_apps_with_disabled_endpoints,
        play_endpoints=exclude_apps_with_svix_play_endpoints,
    )
    page = await applications.page(
        ctx, tenant=who.app_id, limit=limit, iterator=iterator, descending=order == "descending", exclude=exclude
    )
    return ListResponse(
        data=[app_out(r) for r in page.rows], iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done
    )


@router.post(
    "",
    status_code=201,
    response_model=ApplicationOut,
    operation_id="v1.application.create",
    responses={200: {"model": ApplicationOut, "description": "Existing application (get_if_exists)"}},
)
async def create_application(
    body: ApplicationIn,
    who: Auth,
    ctx: Ctx,
    response: Response,
    get_if_exists: Annotated[bool, Query()] = False,
    idempotency_key: IdempotencyKey = None,
) -> ApplicationOut:
    who.require_admin()
    app, created = await applications.create(ctx, _fields(body, partial=False), get_if_exists=get_if_exists)
    if not created:
        response.status_code = 200
    return app_out(app)


@router.get("/{app_id}", response_model=ApplicationOut, operation_id="v1.application.get")
async def get_application(app_id: AppId, who: Auth, ctx: Ctx) -> ApplicationOut:
    return app_out(await applications.get(ctx, app_id, tenant=who.app_id))


@router.put(
    "/{app_id}",
    response_model=ApplicationOut,
    operation_id="v1.application.update",
    responses={201: {"model": ApplicationOut, "description": "Created"}},
)
async def update_application(
    app_id: AppId, body: ApplicationIn, who: Auth, ctx: Ctx, response: Response
) -> ApplicationOut:
    fields = _fields(body, partial=False)
    app, created = await applications.put(ctx, app_id, fields, body.model_fields_set, tenant=who.app_id)
    if created:
        response.status_code = 201
    return app_out(app)


@router.patch("/{app_id}", response_model=ApplicationOut, operation_id="v1.application.patch")
async def patch_application(app_id: AppId, body: ApplicationPatch, who: Auth, ctx: Ctx) -> ApplicationOut:
    fields = _fields(body, partial=True)
    return app_out(await applications.patch(ctx, app_id, fields, body.model_fields_set, tenant=who.app_id))


@router.delete("/{app_id}", status_code=204, response_class=Response, operation_id="v1.application.delete")
async def delete_application(app_id: AppId, who: Auth, ctx: Ctx) -> None:
    await applications.delete(ctx, app_id, tenant=who.app_id)
