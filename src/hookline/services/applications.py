"""Applications: who may see one, and the fields only the operator may change."""

from collections.abc import Mapping
from typing import Any

from hookline.domain.model import AppExclusions, Application
from hookline.errors import Conflict, Forbidden, NotFound
from hookline.services.context import Context, Database
from hookline.store import applications
from hookline.store.database import Conn
from hookline.store.pagination import Page

# What an application is to the operator: its identity and its limits. A tenant's token may rename
# its application, but may not change these (a new uid could impersonate another application).
_ADMIN_FIELDS = {"uid": "uid", "metadata": "metadata", "throttle_rate": "throttleRate"}
SCOPED = "this token is scoped to one application"


class OwnerKey(str):
    """An internal application's id as the service that keeps it hands it out (``ingest.app_of``):
    changes to its endpoints made through it are that service's own. Any other key naming an
    internal application (the ordinary API's, the dashboard's) may read it, not write to it."""

    __slots__ = ()


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
            app, created = await get_or_create(conn, fields, fields["uid"])
            if not created:
                await refuse_owned(conn, app)
            return app, created
        return await applications.create(conn, fields), True


async def writable(ctx: Context, key: str, *, tenant: str | None) -> Application:
    """``get`` for a change to the application's endpoints or messages: Conflict, naming the API
    that manages it, for an internal application that ``key`` is not its owner's ``OwnerKey`` for."""
    app = await get(ctx, key, tenant=tenant)
    if app.internal and not isinstance(key, OwnerKey):
        async with ctx.db.read() as conn:
            await refuse_owned(conn, app)
    return app


async def get_or_create(conn: Conn, fields: dict[str, Any], key: str) -> tuple[Application, bool]:
    """The application ``key`` (id or uid) names, or a new one made of ``fields`` (their uid
    should be ``key``), in the caller's transaction. A request that loses the race to create
    it gets the one the winner made, as if it had come second. Returns it and whether it was
    created; Conflict when ``fields``' uid belongs to an application ``key`` does not name."""
    existing = await applications.find(conn, key)
    if existing is not None:
        return existing, False
    return await applications.create_or_find(conn, fields, key)


async def refuse_owned(conn: Conn, app: Application) -> None:
    """Conflict for an application hookline keeps for itself, naming the API that manages it."""
    if not app.internal:
        return
    source = await applications.source_of(conn, app.id)
    if source is not None:
        raise Conflict(
            f"application {app.id} belongs to ingest source {source}: "
            f"manage its destinations under /ingest/api/v1/source/{source}"
        )
    raise Conflict(
        f"application {app.id} holds hookline's operational webhooks: "
        "manage its endpoints under /api/v1/operational-webhook/endpoint"
    )


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
            app, created = await applications.create_or_find(conn, {**fields, "uid": fields.get("uid") or key}, key)
            if created:
                return app, True
            existing = app  # made by a request at the same time: this one updates it, as if second
        await refuse_owned(conn, existing)
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
        await refuse_owned(conn, app)
        return await applications.update_fields(conn, app.id, fields)


async def delete(ctx: Context, key: str, *, tenant: str | None) -> None:
    app = await get(ctx, key, tenant=tenant)
    if tenant is not None:
        raise Forbidden(SCOPED)
    async with ctx.db.write() as conn:
        await refuse_owned(conn, app)
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
