"""/api/v1/auth: portal tokens (Svix's calls), logout, and the admin's token management."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import Field, StringConstraints

from hookline.api.auth import forget_tokens
from hookline.api.deps import AppId, Auth, Db, IdempotencyKey, Iterator, Limit
from hookline.api.errors import ApiError
from hookline.api.schemas import ApplicationIn, ListResponse, Model, ms_to_datetime
from hookline.services import tokens
from hookline.services.tokens import Capability

router = APIRouter(prefix="/api/v1/auth", tags=["Authentication"])

SessionId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]
TokenName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]
TokenId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_]+$")]


class AppPortalAccessIn(Model):
    application: ApplicationIn | None = None
    # Refused unless empty (422 naming it), rather than accepted and never applied.
    feature_flags: Annotated[list[str], Field(max_length=0)] = Field(
        default_factory=list, description="Must be empty: hookline does not gate event types by feature flag"
    )
    expiry: Annotated[
        int | None,
        Field(
            ge=tokens.PORTAL_EXPIRY_MIN,
            le=tokens.PORTAL_EXPIRY_MAX,
            description="Seconds the token lives: 1 hour to 7 days (the default)",
        ),
    ] = None
    read_only: bool = Field(default=False, description="Refuse every call that changes something")
    capabilities: list[Capability] | None = Field(
        default=None,
        description="Only what these allow (ViewBase always included); without them, the whole application",
    )
    session_id: SessionId | None = Field(default=None, description="Expire-all can end this session's tokens alone")


class AppPortalAccessOut(Model):
    token: str
    url: str


class ApplicationTokenExpireIn(Model):
    expiry: Annotated[
        int | None, Field(ge=0, le=tokens.PORTAL_EXPIRY_MAX, description="Seconds until the tokens expire; none: now")
    ] = None
    session_ids: Annotated[list[SessionId], Field(max_length=1000)] | None = Field(
        default=None, description="Only the tokens created with these session ids"
    )


class ApiTokenIn(Model):
    name: TokenName = "api"
    app_id: Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9\-_.]+$")] | None = (
        Field(default=None, description="Scope the token to this application (id or uid); none: an admin token")
    )
    expiry: Annotated[
        int | None, Field(ge=tokens.TOKEN_EXPIRY_MIN, le=tokens.TOKEN_EXPIRY_MAX, description="Seconds it lives")
    ] = None


class ApiTokenOut(Model):
    id: str
    name: str
    app_id: str | None = Field(description="None: an admin token")
    origin: str = Field(
        description="How it was made: generated (the admin token made at first start), cli (hookline token"
        " create, and an integration's key), api (POST /api/v1/auth/token), portal (app portal access) or"
        " dashboard (a dashboard sign-in session)"
    )
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    read_only: bool
    capabilities: list[str] | None
    session_id: str | None
    last_used_at: datetime | None = Field(
        description="When a request last came with it, to the minute; none: never (HOOKLINE_ADMIN_TOKEN is not"
        " recorded)"
    )


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(description="Shown once: only a hash is stored")


def _token_out(token: tokens.StoredToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        app_id=token.app_id,
        origin=token.origin,
        created_at=ms_to_datetime(token.created_at),
        expires_at=None if token.expires_at is None else ms_to_datetime(token.expires_at),
        revoked_at=None if token.revoked_at is None else ms_to_datetime(token.revoked_at),
        read_only=token.read_only,
        capabilities=None if token.capabilities is None else list(token.capabilities),
        session_id=token.session_id,
        last_used_at=None if token.last_used_at is None else ms_to_datetime(token.last_used_at),
    )


@router.post(
    "/app-portal-access/{app_id}", response_model=AppPortalAccessOut, operation_id="v1.authentication.app-portal-access"
)
async def app_portal_access(
    app_id: AppId, body: AppPortalAccessIn, request: Request, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> AppPortalAccessOut:
    """Create a token that reaches this application's routes and nothing else, for at most 7 days."""
    who.require_admin()
    grant = tokens.PortalGrant(
        expiry=body.expiry or tokens.PORTAL_EXPIRY_DEFAULT,
        read_only=body.read_only,
        capabilities=body.capabilities,
        session_id=body.session_id,
    )
    new_app = None if body.application is None else body.application.model_dump()
    access = await tokens.portal_access(db, app_id, grant, new_app=new_app)
    # The magic link opens the portal once; the token keeps working for API calls.
    url = str(request.base_url).rstrip("/") + f"/portal/open#link={access.link}"
    return AppPortalAccessOut(token=access.token, url=url)


@router.post("/app/{app_id}/expire-all", status_code=204, operation_id="v1.authentication.expire-all")
async def expire_all(
    app_id: AppId,
    body: ApplicationTokenExpireIn,
    request: Request,
    who: Auth,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """End the application's portal tokens now, or `expiry` seconds from now; with `sessionIds`,
    only those sessions' tokens. Tokens made on purpose (CLI, `POST /api/v1/auth/token`) stay."""
    who.require_admin()
    await tokens.expire_all(db, app_id, expiry=body.expiry, session_ids=body.session_ids)
    forget_tokens(request)


@router.post("/logout", status_code=204, operation_id="v1.authentication.logout")
async def logout(request: Request, who: Auth, db: Db, idempotency_key: IdempotencyKey = None) -> None:
    """Revoke the token this request carries."""
    if who.token_id is None:
        raise ApiError(409, "conflict", "HOOKLINE_ADMIN_TOKEN comes from the server's settings: remove it there")
    await tokens.revoke_token(db, who.token_id)
    forget_tokens(request)


@router.get("/token", response_model=ListResponse[ApiTokenOut], operation_id="hookline.token.list")
async def list_tokens(who: Auth, db: Db, limit: Limit = 50, iterator: Iterator = None) -> ListResponse[ApiTokenOut]:
    """hookline extension (admin only): every stored token, revoked and expired ones included,
    never its value. HOOKLINE_ADMIN_TOKEN is not stored, so not listed."""
    who.require_admin()
    page = await tokens.list_page(db, limit=limit, iterator=iterator)
    data = [_token_out(token) for token in page.tokens]
    return ListResponse(data=data, iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done)


@router.post("/token", status_code=201, response_model=ApiTokenCreatedOut, operation_id="hookline.token.create")
async def create_token(
    body: ApiTokenIn, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> ApiTokenCreatedOut:
    """hookline extension (admin only): a token for the admin, or for one application with `appId`,
    that expires after `expiry` seconds if given. Its value is in this response only."""
    who.require_admin()
    stored, token = await tokens.create_token(db, app=body.app_id, name=body.name, expires_in=body.expiry, origin="api")
    return ApiTokenCreatedOut(**_token_out(stored).model_dump(), token=token)


@router.delete("/token/{token_id}", status_code=204, operation_id="hookline.token.revoke")
async def revoke_token(token_id: TokenId, request: Request, who: Auth, db: Db) -> None:
    """hookline extension (admin only): revoke a token; it is refused from now on."""
    who.require_admin()
    await tokens.revoke_token(db, token_id)
    forget_tokens(request)
