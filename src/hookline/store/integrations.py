"""Integrations: named, app-scoped API keys an application hands to a third party."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select, update

from hookline.domain.ids import new_id
from hookline.domain.model import Integration
from hookline.store import records, tokens
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.pagination import Page, paginate

integ = t.integration


async def get(conn: Conn, app_id: str, integ_id: str) -> Integration:
    query = select(integ).where(integ.c.app_id == app_id, integ.c.id == integ_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFoundError("integration")
    return records.integration(row)


async def page(conn: Conn, app_id: str, *, limit: int, iterator: str | None, descending: bool) -> Page[Integration]:
    query = select(integ).where(integ.c.app_id == app_id)
    return await paginate(
        conn, query, integ.c.id, limit=limit, iterator=iterator, descending=descending, record=records.integration
    )


async def _new_token(conn: Conn, app_id: str, integ_id: str) -> tuple[str, str]:
    """A fresh app token for the integration: (token id, token)."""
    key = await tokens.create(conn, app_id=app_id, name=f"integration {integ_id}")
    stored = await tokens.lookup(conn, key)
    assert stored is not None  # just inserted in this transaction
    return stored.id, key


async def create(
    conn: Conn, app_id: str, name: str, feature_flags: list[str], seal: Callable[[str], str]
) -> Integration:
    now = now_ms()
    integ_id = new_id("integ", now)
    token_id, key = await _new_token(conn, app_id, integ_id)
    values = {
        "id": integ_id,
        "app_id": app_id,
        "name": name,
        "feature_flags": feature_flags,
        "token_id": token_id,
        "key": seal(key),
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(insert(integ).values(values))
    return records.integration(values)


async def update_fields(conn: Conn, row: Integration, fields: dict[str, Any]) -> Integration:
    await conn.execute(update(integ).where(integ.c.id == row.id).values(updated_at=now_ms(), **fields))
    return await get(conn, row.app_id, row.id)


async def rotate_key(conn: Conn, row: Integration, seal: Callable[[str], str]) -> str:
    """Replace the key: the old one stops working at once (its token row is gone)."""
    await conn.execute(delete(t.api_token).where(t.api_token.c.id == row.token_id))
    token_id, key = await _new_token(conn, row.app_id, row.id)
    await update_fields(conn, row, {"token_id": token_id, "key": seal(key)})
    return key


async def remove(conn: Conn, row: Integration) -> None:
    await conn.execute(delete(t.api_token).where(t.api_token.c.id == row.token_id))
    await conn.execute(delete(integ).where(integ.c.id == row.id))
