"""/api/v1/app: applications."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from hookline.api.auth import Principal
from hookline.api.deps import AppId, Auth, Db, IdempotencyKey, Iterator, Limit, Order, load_app
from hookline.api.errors import ApiError
from hookline.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    ListResponse,
    ms_to_datetime,
)
from hookline.store import applications, tables
from hookline.store.pagination import paginate
from hookline.store.tables import Row

router = APIRouter(prefix="/api/v1/app", tags=["Application"])


def app_out(row: Row) -> ApplicationOut:
    return ApplicationOut(
        id=row["id"],
        uid=row["uid"],
        name=row["name"],
        metadata=row["metadata"],
        throttle_rate=row["throttle_rate"],
        created_at=ms_to_datetime(row["created_at"]),
        updated_at=ms_to_datetime(row["updated_at"]),
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
    who: Auth, db: Db, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[ApplicationOut]:
    query = select(tables.application).where(tables.application.c.internal.is_(False))
    if who.app_id is not None:
        query = query.where(tables.application.c.id == who.app_id)
    async with db.read() as conn:
        page = await paginate(
            conn, query, tables.application.c.id, limit=limit, iterator=iterator, descending=order == "descending"
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
    db: Db,
    response: Response,
    get_if_exists: Annotated[bool, Query()] = False,
    idempotency_key: IdempotencyKey = None,
) -> ApplicationOut:
    who.require_admin()
    async with db.write() as conn:
        if get_if_exists and body.uid:
            existing = await applications.find(conn, body.uid)
            if existing is not None:
                response.status_code = 200
                return app_out(existing)
        row = await applications.create(conn, _fields(body, partial=False))
    return app_out(row)


@router.get("/{app_id}", response_model=ApplicationOut, operation_id="v1.application.get")
async def get_application(app_id: AppId, who: Auth, db: Db) -> ApplicationOut:
    return app_out(await load_app(db, who, app_id))


@router.put(
    "/{app_id}",
    response_model=ApplicationOut,
    operation_id="v1.application.update",
    responses={201: {"model": ApplicationOut, "description": "Created"}},
)
async def update_application(
    app_id: AppId, body: ApplicationIn, who: Auth, db: Db, response: Response
) -> ApplicationOut:
    async with db.write() as conn:
        existing = await applications.find(conn, app_id)
        if existing is None or (who.app_id is not None and existing["id"] != who.app_id):
            who.require_admin()
            fields = _fields(body, partial=False)
            fields.setdefault("uid", None)
            fields["uid"] = fields["uid"] or app_id
            response.status_code = 201
            return app_out(await applications.create(conn, fields))
        fields = _fields(body, partial=False)
        if "uid" not in body.model_fields_set:
            fields.pop("uid")  # keep the uid the caller may be addressing it by
        _keep_admin_fields(who, existing, body, fields)
        return app_out(await applications.update_fields(conn, existing["id"], fields))


@router.patch("/{app_id}", response_model=ApplicationOut, operation_id="v1.application.patch")
async def patch_application(app_id: AppId, body: ApplicationPatch, who: Auth, db: Db) -> ApplicationOut:
    row = await load_app(db, who, app_id)
    fields = _fields(body, partial=True)
    _keep_admin_fields(who, row, body, fields)
    async with db.write() as conn:
        return app_out(await applications.update_fields(conn, row["id"], fields))


# What an application is to the operator: its identity and its limits. A tenant's token may rename
# its application, but may not change these (a new uid could impersonate another application).
_ADMIN_FIELDS = {"uid": "uid", "metadata": "metadata", "throttle_rate": "throttleRate"}


def _keep_admin_fields(
    who: Principal, current: Row, body: ApplicationIn | ApplicationPatch, fields: dict[str, Any]
) -> None:
    """Refuse an application token's change to an admin-owned field; leave unsent ones as they are."""
    if who.is_admin:
        return
    for column, name in _ADMIN_FIELDS.items():
        if column in body.model_fields_set and fields.get(column) != current[column]:
            raise ApiError(403, "forbidden", f"{name}: an application-scoped token cannot change it")
        fields.pop(column, None)


@router.delete("/{app_id}", status_code=204, response_class=Response, operation_id="v1.application.delete")
async def delete_application(app_id: AppId, who: Auth, db: Db) -> None:
    row = await load_app(db, who, app_id)
    who.require_admin()
    async with db.write() as conn:
        await applications.remove(conn, row["id"])
