"""/api/v1/auth: application-scoped tokens for portals and tenants."""

from fastapi import APIRouter, Request

from hookline.api.deps import AppId, Auth, Db, IdempotencyKey
from hookline.api.schemas import ApplicationIn, Model
from hookline.store import applications, tokens
from hookline.store.errors import NotFoundError

router = APIRouter(prefix="/api/v1/auth", tags=["Authentication"])


class AppPortalAccessIn(Model):
    application: ApplicationIn | None = None
    feature_flags: list[str] = []


class AppPortalAccessOut(Model):
    token: str
    url: str


@router.post(
    "/app-portal-access/{app_id}", response_model=AppPortalAccessOut, operation_id="v1.authentication.app-portal-access"
)
async def app_portal_access(
    app_id: AppId, body: AppPortalAccessIn, request: Request, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> AppPortalAccessOut:
    """Create a token that reaches this application's routes and nothing else."""
    who.require_admin()
    async with db.write() as conn:
        app = await applications.find(conn, app_id)
        if app is None:
            if body.application is None:
                raise NotFoundError("application")
            fields = body.application.model_dump()
            fields["uid"] = fields.get("uid") or app_id
            app = await applications.create(conn, fields)
        token = await tokens.create(conn, app_id=app["id"], name="app portal access")
    # hookline has no hosted portal page yet: the URL is the application's API root.
    return AppPortalAccessOut(token=token, url=str(request.base_url).rstrip("/") + f"/api/v1/app/{app['id']}")
