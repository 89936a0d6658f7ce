"""Applications (tenants)."""

from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.ids import new_id
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.tables import Row

app = t.application


# An id wins over a uid that happens to spell it, so that no uid can shadow another application.
_FIND = (
    select(app)
    .where(or_(app.c.id == bindparam("key"), app.c.uid == bindparam("key")))
    .order_by((app.c.id == bindparam("key")).desc())
    .limit(1)
)


async def find(conn: Conn, id_or_uid: str) -> Row | None:
    return (await conn.execute(_FIND, {"key": id_or_uid})).mappings().first()


async def get(conn: Conn, id_or_uid: str) -> Row:
    row = await find(conn, id_or_uid)
    if row is None:
        raise NotFoundError("application")
    return row


async def create(conn: Conn, fields: dict[str, Any]) -> Row:
    now = now_ms()
    values = {"id": new_id("app"), "created_at": now, "updated_at": now, **fields}
    try:
        await conn.execute(insert(app).values(values))
    except IntegrityError as exc:
        raise ConflictError("an application with this uid already exists") from exc
    return await get(conn, values["id"])


async def update_fields(conn: Conn, app_id: str, fields: dict[str, Any]) -> Row:
    try:
        await conn.execute(update(app).where(app.c.id == app_id).values(updated_at=now_ms(), **fields))
    except IntegrityError as exc:
        raise ConflictError("an application with this uid already exists") from exc
    return await get(conn, app_id)


async def remove(conn: Conn, app_id: str) -> None:
    """Delete an application with its endpoints and queued deliveries."""
    await conn.execute(delete(t.delivery).where(t.delivery.c.app_id == app_id, t.delivery.c.status.in_((1, 3))))
    await conn.execute(delete(t.endpoint).where(t.endpoint.c.app_id == app_id))
    await conn.execute(delete(t.api_token).where(t.api_token.c.app_id == app_id))
    await conn.execute(delete(app).where(app.c.id == app_id))
