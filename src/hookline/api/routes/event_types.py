"""/api/v1/event-type: the catalogue of event types."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import delete, select

from hookline.api.deps import Auth, Db, IdempotencyKey, Iterator, Limit, Order
from hookline.api.schemas import (
    EventTypeIn,
    EventTypeOut,
    EventTypePatch,
    EventTypeUpdate,
    ListResponse,
    ms_to_datetime,
)
from hookline.store import event_types, tables
from hookline.store.pagination import paginate
from hookline.store.tables import Row

router = APIRouter(prefix="/api/v1/event-type", tags=["Event Type"])
EventTypeName = Annotated[str, Path(pattern=r"^[a-zA-Z0-9\-_.]+$", max_length=256)]


def event_type_out(row: Row, with_content: bool = True) -> EventTypeOut:
    return EventTypeOut(
        name=row["name"],
        description=row["description"],
        archived=row["archived"],
        deprecated=row["deprecated"],
        schemas=row["schemas"] if with_content else None,
        feature_flag=row["feature_flag"],
        created_at=ms_to_datetime(row["created_at"]),
        updated_at=ms_to_datetime(row["updated_at"]),
    )


@router.get("", response_model=ListResponse[EventTypeOut], operation_id="v1.event-type.list")
async def list_event_types(
    who: Auth,
    db: Db,
    limit: Limit = 50,
    iterator: Iterator = None,
    order: Order = "ascending",
    include_archived: Annotated[bool, Query()] = False,
    with_content: Annotated[bool, Query()] = False,
) -> ListResponse[EventTypeOut]:
    et = tables.event_type
    query = select(et)
    if not include_archived:
        query = query.where(et.c.archived.is_(False))
    async with db.read() as conn:
        page = await paginate(conn, query, et.c.name, limit=limit, iterator=iterator, descending=order == "descending")
    return ListResponse(
        data=[event_type_out(r, with_content) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=EventTypeOut, operation_id="v1.event-type.create")
async def create_event_type(
    body: EventTypeIn, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> EventTypeOut:
    who.require_admin()
    async with db.write() as conn:
        return event_type_out(await event_types.create(conn, body.model_dump()))


@router.get("/{event_type_name}", response_model=EventTypeOut, operation_id="v1.event-type.get")
async def get_event_type(event_type_name: EventTypeName, who: Auth, db: Db) -> EventTypeOut:
    async with db.read() as conn:
        return event_type_out(await event_types.get(conn, event_type_name))


@router.put(
    "/{event_type_name}",
    response_model=EventTypeOut,
    operation_id="v1.event-type.update",
    responses={201: {"model": EventTypeOut, "description": "Created"}},
)
async def update_event_type(
    event_type_name: EventTypeName, body: EventTypeUpdate, who: Auth, db: Db, response: Response
) -> EventTypeOut:
    who.require_admin()
    async with db.write() as conn:
        if await event_types.find(conn, event_type_name) is None:
            response.status_code = 201
            return event_type_out(await event_types.create(conn, {"name": event_type_name, **body.model_dump()}))
        return event_type_out(await event_types.update_fields(conn, event_type_name, body.model_dump()))


@router.patch("/{event_type_name}", response_model=EventTypeOut, operation_id="v1.event-type.patch")
async def patch_event_type(event_type_name: EventTypeName, body: EventTypePatch, who: Auth, db: Db) -> EventTypeOut:
    who.require_admin()
    fields: dict[str, Any] = body.model_dump(exclude_unset=True)
    for key in ("description", "archived", "deprecated"):
        if key in fields and fields[key] is None:
            fields.pop(key)
    async with db.write() as conn:
        await event_types.get(conn, event_type_name)
        return event_type_out(await event_types.update_fields(conn, event_type_name, fields))


@router.delete("/{event_type_name}", status_code=204, response_class=Response, operation_id="v1.event-type.delete")
async def delete_event_type(
    event_type_name: EventTypeName, who: Auth, db: Db, expunge: Annotated[bool, Query()] = False
) -> None:
    """Archive the event type; with ``expunge=true`` delete it for good."""
    who.require_admin()
    async with db.write() as conn:
        await event_types.get(conn, event_type_name)
        if expunge:
            await conn.execute(delete(tables.event_type).where(tables.event_type.c.name == event_type_name))
        else:
            await event_types.update_fields(conn, event_type_name, {"archived": True})
