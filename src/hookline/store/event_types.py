"""Event types: a global catalogue of what messages may be."""

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.model import EventType
from hookline.store import raw, records
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.pagination import Page, paginate

et = t.event_type


# Every publish runs it: on the driver (store/raw.py).
_FIND = raw.Statement(
    "SELECT name, description, archived, deprecated, schemas, feature_flag, created_at, updated_at,"
    " schema_validation FROM event_type WHERE name = :name"
)


async def find(conn: Conn, name: str) -> EventType | None:
    found = await raw.rows(conn, _FIND, {"name": name}, json=(4,))
    if not found:
        return None
    name, description, archived, deprecated, schemas, flag, created_at, updated_at, validation = found[0]
    return EventType(
        name, description, bool(archived), bool(deprecated), schemas, flag, created_at, updated_at, validation
    )


async def get(conn: Conn, name: str) -> EventType:
    found = await find(conn, name)
    if found is None:
        raise NotFoundError("event type")
    return found


async def page(
    conn: Conn, *, include_archived: bool, limit: int, iterator: str | None, descending: bool
) -> Page[EventType]:
    query = select(et)
    if not include_archived:
        query = query.where(et.c.archived.is_(False))
    return await paginate(
        conn, query, et.c.name, limit=limit, iterator=iterator, descending=descending, record=records.event_type
    )


async def create(conn: Conn, fields: dict[str, Any]) -> EventType:
    now = now_ms()
    try:
        await conn.execute(insert(et).values(created_at=now, updated_at=now, **fields))
    except IntegrityError as exc:
        raise ConflictError("an event type with this name already exists") from exc
    return await get(conn, fields["name"])


async def update_fields(conn: Conn, name: str, fields: dict[str, Any]) -> EventType:
    await conn.execute(update(et).where(et.c.name == name).values(updated_at=now_ms(), **fields))
    return await get(conn, name)


async def remove(conn: Conn, name: str) -> None:
    await conn.execute(delete(et).where(et.c.name == name))


async def live_names(conn: Conn) -> list[str]:
    """The names of the event types not archived."""
    return list((await conn.execute(select(et.c.name).where(et.c.archived.is_(False)))).scalars())
