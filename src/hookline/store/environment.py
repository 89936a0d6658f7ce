"""The whole configuration at once: read it all, or write it back row by row (keeping ids)."""

from typing import Any

from sqlalchemy import Table, insert, select, update

from hookline.domain.model import Application, Endpoint, EventType
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn
from hookline.store.errors import ConflictError

app, ep, et = t.application, t.endpoint, t.event_type


async def event_types(conn: Conn) -> list[EventType]:
    return [records.event_type(row) for row in (await conn.execute(select(et).order_by(et.c.name))).mappings()]


async def applications(conn: Conn) -> list[Application]:
    """Tenants' applications; hookline's internal ones are the server's own, not configuration."""
    query = select(app).where(app.c.internal.is_(False)).order_by(app.c.id)
    return [records.application(row) for row in (await conn.execute(query)).mappings()]


async def endpoints(conn: Conn, app_ids: list[str]) -> list[Endpoint]:
    query = select(ep).where(ep.c.app_id.in_(app_ids)).order_by(ep.c.app_id, ep.c.id)
    return [records.endpoint(row) for row in (await conn.execute(query)).mappings()]


async def _upsert(conn: Conn, table: Table, key: Any, values: dict[str, Any]) -> None:
    existing = (await conn.execute(select(*table.primary_key.columns).where(key))).first()
    if existing is None:
        await conn.execute(insert(table).values(values))
    else:
        await conn.execute(update(table).where(key).values(values))


async def put_event_type(conn: Conn, values: dict[str, Any]) -> None:
    await _upsert(conn, et, et.c.name == values["name"], values)


async def put_application(conn: Conn, values: dict[str, Any]) -> None:
    found = (await conn.execute(select(app.c.internal).where(app.c.id == values["id"]))).first()
    if found is not None and found.internal:
        raise ConflictError(f"application {values['id']} is one of hookline's own")
    if values.get("uid") is not None:
        query = select(app.c.id).where(app.c.uid == values["uid"], app.c.id != values["id"])
        if (await conn.execute(query)).first() is not None:
            raise ConflictError(f"application uid {values['uid']} belongs to another application here")
    await _upsert(conn, app, app.c.id == values["id"], values)


async def put_endpoint(conn: Conn, values: dict[str, Any]) -> None:
    owner = (await conn.execute(select(ep.c.app_id).where(ep.c.id == values["id"]))).scalar_one_or_none()
    if owner is not None and owner != values["app_id"]:
        raise ConflictError(f"endpoint {values['id']} belongs to another application here")
    if values.get("uid") is not None:
        query = select(ep.c.id).where(
            ep.c.app_id == values["app_id"], ep.c.uid == values["uid"], ep.c.id != values["id"]
        )
        if (await conn.execute(query)).first() is not None:
            raise ConflictError(f"endpoint uid {values['uid']} belongs to another endpoint of {values['app_id']}")
    await _upsert(conn, ep, ep.c.id == values["id"], values)
