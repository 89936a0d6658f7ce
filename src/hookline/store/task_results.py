"""Background tasks as a listing, with what finished ones computed (``background_task_result``)."""

from typing import Any

from sqlalchemy import insert, select

from hookline.domain.model import BackgroundTask
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn
from hookline.store.pagination import Page, paginate

bt, result = t.background_task, t.background_task_result
# A task that belongs to no application (statistics over all of them): admin tokens only.
ENVIRONMENT = ""

_LISTING = select(bt, result.c.data).select_from(bt.outerjoin(result, result.c.task_id == bt.c.id))


async def page(
    conn: Conn,
    *,
    app_id: str | None,
    status: str | None,
    task: str | None,
    limit: int,
    iterator: str | None,
    descending: bool,
) -> Page[BackgroundTask]:
    """Tasks, newest or oldest first; ``app_id`` limits them to one application's."""
    query = _LISTING
    if app_id is not None:
        query = query.where(bt.c.app_id == app_id)
    if status is not None:
        query = query.where(bt.c.status == status)
    if task is not None:
        query = query.where(bt.c.task == task)
    return await paginate(
        conn, query, bt.c.id, limit=limit, iterator=iterator, descending=descending, record=records.background_task
    )


async def save(conn: Conn, task_id: str, data: dict[str, Any]) -> None:
    await conn.execute(insert(result).values(task_id=task_id, data=data))


async def get(conn: Conn, task_id: str) -> dict[str, Any] | None:
    query = select(result.c.data).where(result.c.task_id == task_id)
    data: dict[str, Any] | None = (await conn.execute(query)).scalar_one_or_none()
    return data


async def get_task(conn: Conn, task_id: str) -> BackgroundTask | None:
    """One task with its result (``data`` is None while it has none)."""
    row = (await conn.execute(_LISTING.where(bt.c.id == task_id))).mappings().first()
    return None if row is None else records.background_task(row)
