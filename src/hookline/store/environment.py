"""The whole configuration at once: read it all, or write it back row by row (keeping ids)."""

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

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


async def _upsert(conn: Conn, table: Table, values: dict[str, Any], *, only_if: Any = None) -> bool:
    """Insert the row, or update the one with its primary key (when ``only_if`` holds of it):
    one statement, so that imports of the same new row at the same time all succeed (a read
    then an insert let all but one fail on the key). Whether a row was written; ConflictError
    when another unique field (a uid) is taken."""
    keys = [column.name for column in table.primary_key.columns]
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}, where=only_if
    )
    try:
        result = await conn.execute(statement)
    except IntegrityError as exc:
        raise ConflictError(f"{table.name} {values[keys[0]]}: another {table.name} here has its uid") from exc
    return bool(result.rowcount)


async def put_event_type(conn: Conn, values: dict[str, Any]) -> None:
    await _upsert(conn, et, values)


async def put_application(conn: Conn, values: dict[str, Any]) -> None:
    if values.get("uid") is not None:
        query = select(app.c.id).where(app.c.uid == values["uid"], app.c.id != values["id"])
        if (await conn.execute(query)).first() is not None:
            raise ConflictError(f"application uid {values['uid']} belongs to another application here")
    if not await _upsert(conn, app, values, only_if=app.c.internal.is_(False)):
        raise ConflictError(f"application {values['id']} is one of hookline's own")


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
    # Fenced on the owner too: an import of the same id under another application at the
    # same time, after the check above, must not move the endpoint.
    if not await _upsert(conn, ep, values, only_if=ep.c.app_id == values["app_id"]):
        raise ConflictError(f"endpoint {values['id']} belongs to another application here")
