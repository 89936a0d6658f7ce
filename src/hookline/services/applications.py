"""Applications: who may see one, and the fields only the operator may change."""

from collections.abc import Mapping
from typing import Any

from hookline.domain.model import AppExclusions, Application
from hookline.errors import Forbidden, NotFound
from hookline.services.context import Context, Database
from hookline.store import applications
from hookline.store.pagination import Page

# What an application is to the operator: its identity and its limits. A tenant's token may rename
# its application, but may not change these (a new uid could impersonate another application).
_ADMIN_FIELDS = {"uid": "uid", "metadata": "metadata", "throttle_rate": "throttleRate"}
SCOPED = "this token is scoped to one application"


def _visible(app: Application | None, tenant: str | None) -> Application | None:
    if app is None or (tenant is not None and (app.id != tenant or app.internal)):
        return None
    return app


async def get(ctx: Context, key: str, *, tenant: str | None) -> Application:
    """The application by id or uid, or NotFound when it does not exist or ``tenant``
    (the caller's application, None for the admin) may not see it."""
    return await visible(ctx.db, key, tenant=tenant)


async def visible(db: Database, key: str, *, tenant: str | None) -> Application:
    """``get`` for callers that hold only the database."""
    async with db.read() as conn:
        app = _visible(await applications.find(conn, key), tenant)
    if app is None:
        raise NotFound("application")
    return app


async def page(
    ctx: Context,
    *,
    tenant: str | None,
    limit: int,
    iterator: str | None,
    descending: bool,
    exclude: AppExclusions | None = None,
) -> Page[Application]:
    async with ctx.db.read() as conn:
        return await applications.page(
            conn, only=tenant, limit=limit, iterator=iterator, descending=descending, exclude=exclude
        )


async def create(ctx: Context, fields: dict[str, Any], *, get_if_exists: bool = False) -> tuple[Application, bool]:
    """Create an application; with ``get_if_exists``, return the one with this uid instead.
    Returns the application and whether it was created."""
    async with ctx.db.write() as conn:
        if get_if_exists and fields.get("uid"):
            existing = await applications.find(conn, fields["uid"])
            if existing is not None:
                return existing, False
        return await applications.create(conn, fields), True


async def put(
    ctx: Context, key: str, fields: dict[str, Any], sent: set[str], *, tenant: str | None
) -> tuple[Application, bool]:
    """Replace the application's fields, or create it (admin only) with ``key`` as its uid.
    ``sent`` names the fields the caller gave. Returns the application and whether it was created."""
    async with ctx.db.write() as conn:
        existing = _visible(await applications.find(conn, key), tenant)
        if existing is None:
            if tenant is not None:
                raise Forbidden(SCOPED)
            fields = {**fields, "uid": fields.get("uid") or key}
            return await applications.create(conn, fields), True
        fields = dict(fields)
        if "uid" not in sent:
            fields.pop("uid", None)  # keep the uid the caller may be addressing it by
        _keep_admin_fields(existing, fields, sent, admin=tenant is None)
        return await applications.update_fields(conn, existing.id, fields), False


async def patch(ctx: Context, key: str, fields: dict[str, Any], sent: set[str], *, tenant: str | None) -> Application:
    app = await get(ctx, key, tenant=tenant)
    fields = dict(fields)
    _keep_admin_fields(app, fields, sent, admin=tenant is None)
    async with ctx.db.write() as conn:
        return await applications.update_fields(conn, app.id, fields)


async def delete(ctx: Context, key: str, *, tenant: str | None) -> None:
    app = await get(ctx, key, tenant=tenant)
    if tenant is not None:
        raise Forbidden(SCOPED)
    async with ctx.db.write() as conn:
        await applications.remove(conn, app.id)


def _keep_admin_fields(current: Application, fields: dict[str, Any], sent: set[str], *, admin: bool) -> None:
    """Refuse an application token's change to an admin-owned field; leave unsent ones as they are."""
    if admin:
        return
    now: Mapping[str, Any] = {"uid": current.uid, "metadata": current.metadata, "throttle_rate": current.throttle_rate}
    for column, name in _ADMIN_FIELDS.items():
        if column in sent and fields.get(column) != now[column]:
            raise Forbidden(f"{name}: an application-scoped token cannot change it")
        fields.pop(column, None)
