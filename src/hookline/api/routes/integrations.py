"""/api/v1/app/{app}/integration: an application's integration keys."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import ConfigDict, Field, StringConstraints

from hookline.api.deps import AppId, Auth, Conf, Db, IdempotencyKey, Iterator, Limit, Order, load_app
from hookline.api.schemas import ListResponse, Model, ms_to_datetime
from hookline.domain.model import Integration
from hookline.services import integrations
from hookline.services.context import secret_box

router = APIRouter(prefix="/api/v1/app/{app_id}/integration", tags=["Integration"])
IntegId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]


class IntegrationIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]
    # Refused unless empty (422 naming it), rather than stored and never applied.
    feature_flags: Annotated[list[str], Field(max_length=0)] | None = Field(
        default=None, description="Must be empty: hookline does not gate event types by feature flag"
    )


class IntegrationOut(Model):
    id: str
    name: str
    feature_flags: list[str]
    created_at: datetime
    updated_at: datetime


class IntegrationKeyOut(Model):
    key: str = Field(description="An API token scoped to the application; send it as `Authorization: Bearer`")


def integration_out(row: Integration) -> IntegrationOut:
    return IntegrationOut(
        id=row.id,
        name=row.name,
        feature_flags=row.feature_flags,
        created_at=ms_to_datetime(row.created_at),
        updated_at=ms_to_datetime(row.updated_at),
    )


def _forget_tokens(request: Request) -> None:
    # A revoked key must fail now in this process, not after the token cache's few seconds.
    request.app.state.token_cache.clear()


@router.get("", response_model=ListResponse[IntegrationOut], operation_id="v1.integration.list")
async def list_integrations(
    app_id: AppId, who: Auth, db: Db, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[IntegrationOut]:
    app = await load_app(db, who, app_id)
    page = await integrations.page(db, app.id, limit=limit, iterator=iterator, descending=order == "descending")
    return ListResponse(
        data=[integration_out(r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=IntegrationOut, operation_id="v1.integration.create")
async def create_integration(
    app_id: AppId, body: IntegrationIn, who: Auth, db: Db, settings: Conf, idempotency_key: IdempotencyKey = None
) -> IntegrationOut:
    """Create an integration with a fresh key (an API token scoped to this application)."""
    who.require_admin()  # a key is a token that never expires: minting one is the operator's call
    app = await load_app(db, who, app_id)
    row = await integrations.create(db, secret_box(settings), app.id, body.name)
    return integration_out(row)


@router.get("/{integ_id}", response_model=IntegrationOut, operation_id="v1.integration.get")
async def get_integration(app_id: AppId, integ_id: IntegId, who: Auth, db: Db) -> IntegrationOut:
    app = await load_app(db, who, app_id)
    return integration_out(await integrations.get(db, app.id, integ_id))


@router.put("/{integ_id}", response_model=IntegrationOut, operation_id="v1.integration.update")
async def update_integration(
    app_id: AppId, integ_id: IntegId, body: IntegrationIn, who: Auth, db: Db
) -> IntegrationOut:
    who.require_admin()  # a key is a token that never expires: minting one is the operator's call
    app = await load_app(db, who, app_id)
    return integration_out(await integrations.rename(db, app.id, integ_id, body.name))


@router.delete("/{integ_id}", status_code=204, response_class=Response, operation_id="v1.integration.delete")
async def delete_integration(app_id: AppId, integ_id: IntegId, request: Request, who: Auth, db: Db) -> None:
    """Delete the integration; its key stops working."""
    who.require_admin()  # a key is a token that never expires: minting one is the operator's call
    app = await load_app(db, who, app_id)
    await integrations.remove(db, app.id, integ_id)
    _forget_tokens(request)


@router.get("/{integ_id}/key", response_model=IntegrationKeyOut, operation_id="v1.integration.get-key")
async def get_integration_key(app_id: AppId, integ_id: IntegId, who: Auth, db: Db, settings: Conf) -> IntegrationKeyOut:
    who.require_admin()  # a key is a token that never expires: minting one is the operator's call
    app = await load_app(db, who, app_id)
    return IntegrationKeyOut(key=await integrations.key(db, secret_box(settings), app.id, integ_id))


@router.post("/{integ_id}/key/rotate", response_model=IntegrationKeyOut, operation_id="v1.integration.rotate-key")
async def rotate_integration_key(
    app_id: AppId,
    integ_id: IntegId,
    request: Request,
    who: Auth,
    db: Db,
    settings: Conf,
    idempotency_key: IdempotencyKey = None,
) -> IntegrationKeyOut:
    """A new key; the previous one is revoked at once."""
    who.require_admin()  # a key is a token that never expires: minting one is the operator's call
    app = await load_app(db, who, app_id)
    key = await integrations.rotate_key(db, secret_box(settings), app.id, integ_id)
    _forget_tokens(request)
    return IntegrationKeyOut(key=key)
