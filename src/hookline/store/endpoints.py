"""Endpoints: where an application's messages go, and how they are signed."""

from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.ids import new_id
from hookline.store import operational
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.tables import Row

ep = t.endpoint
MAX_OLD_SECRETS = 10


async def find(conn: Conn, app_id: str, id_or_uid: str) -> Row | None:
    query = select(ep).where(ep.c.app_id == app_id, or_(ep.c.id == id_or_uid, ep.c.uid == id_or_uid))
    return (await conn.execute(query.limit(1))).mappings().first()


async def get(conn: Conn, app_id: str, id_or_uid: str) -> Row:
    row = await find(conn, app_id, id_or_uid)
    if row is None:
        raise NotFoundError("endpoint")
    return row


async def create(conn: Conn, app_id: str, fields: dict[str, Any]) -> Row:
    now = now_ms()
    values = {
        "id": new_id("ep"),
        "app_id": app_id,
        "old_secrets": [],
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    try:
        await conn.execute(insert(ep).values(values))
    except IntegrityError as exc:
        raise ConflictError("an endpoint with this uid already exists in this application") from exc
    row = await get(conn, app_id, values["id"])
    await operational.endpoint_event(conn, "endpoint.created", row)
    return row


async def update_fields(conn: Conn, row: Row, fields: dict[str, Any]) -> Row:
    if fields.get("disabled") is False and row["disabled"]:
        # Re-enabling starts a fresh failure window for auto-disable.
        fields = {**fields, "failing_since": None}
    try:
        await conn.execute(update(ep).where(ep.c.id == row["id"]).values(updated_at=now_ms(), **fields))
    except IntegrityError as exc:
        raise ConflictError("an endpoint with this uid already exists in this application") from exc
    updated = await get(conn, row["app_id"], row["id"])
    await operational.endpoint_event(conn, "endpoint.updated", updated)
    return updated


async def remove(conn: Conn, row: Row) -> None:
    pending = and_(t.delivery.c.endpoint_id == row["id"], t.delivery.c.status.in_((1, 3)))
    await conn.execute(delete(t.delivery).where(pending))
    await conn.execute(delete(ep).where(ep.c.id == row["id"]))
    await operational.endpoint_event(conn, "endpoint.deleted", row)


def live_old_secrets(row: Row, at_ms: int) -> list[dict[str, Any]]:
    return [s for s in row["old_secrets"] if s["expires_at"] > at_ms]


async def rotate_secret(conn: Conn, row: Row, new_secret: str, grace_ms: int) -> None:
    """Make ``new_secret`` current; the old one keeps signing for ``grace_ms``."""
    now = now_ms()
    old = live_old_secrets(row, now)
    if grace_ms > 0:
        old.append({"key": row["secret"], "expires_at": now + grace_ms})
    old = old[-MAX_OLD_SECRETS:]
    values = {"secret": new_secret, "old_secrets": old, "updated_at": now}
    await conn.execute(update(ep).where(ep.c.id == row["id"]).values(values))


async def for_app(conn: Conn, app_id: str) -> list[Row]:
    return list((await conn.execute(select(ep).where(ep.c.app_id == app_id))).mappings())
