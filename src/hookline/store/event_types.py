"""Event types: a global catalogue of what messages may be."""

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.tables import Row

et = t.event_type


async def find(conn: Conn, name: str) -> Row | None:
    return (await conn.execute(select(et).where(et.c.name == name))).mappings().first()


async def get(conn: Conn, name: str) -> Row:
    row = await find(conn, name)
    if row is None:
        raise NotFoundError("event type")
    return row


async def create(conn: Conn, fields: dict[str, Any]) -> Row:
    now = now_ms()
    try:
        await conn.execute(insert(et).values(created_at=now, updated_at=now, **fields))
    except IntegrityError as exc:
        raise ConflictError("an event type with this name already exists") from exc
    return await get(conn, fields["name"])


async def update_fields(conn: Conn, name: str, fields: dict[str, Any]) -> Row:
    await conn.execute(update(et).where(et.c.name == name).values(updated_at=now_ms(), **fields))
    return await get(conn, name)
