"""Polling consumers: the application's messages in id order, and each consumer's cursor."""

from sqlalchemy import insert, select, update

from hookline.domain.model import Message
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms

msg, cursor = t.message, t.poller_cursor


async def messages_after(conn: Conn, app_id: str, position: str, below: str, limit: int) -> list[Message]:
    """The application's messages with ``position < id < below``, oldest first."""
    query = (
        select(msg).where(msg.c.app_id == app_id, msg.c.id > position, msg.c.id < below).order_by(msg.c.id).limit(limit)
    )
    return [records.message(row) for row in (await conn.execute(query)).mappings()]


async def position(conn: Conn, endpoint_id: str, consumer_id: str) -> str | None:
    query = select(cursor.c.position).where(cursor.c.endpoint_id == endpoint_id, cursor.c.consumer_id == consumer_id)
    value: str | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def save_position(conn: Conn, app_id: str, endpoint_id: str, consumer_id: str, value: str) -> None:
    key = (cursor.c.endpoint_id == endpoint_id) & (cursor.c.consumer_id == consumer_id)
    result = await conn.execute(update(cursor).where(key).values(position=value, updated_at=now_ms()))
    if result.rowcount == 0:
        row = {"endpoint_id": endpoint_id, "consumer_id": consumer_id, "app_id": app_id, "position": value}
        await conn.execute(insert(cursor).values(updated_at=now_ms(), **row))
