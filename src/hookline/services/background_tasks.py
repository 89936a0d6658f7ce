"""Listing background tasks: progress, and what finished ones computed."""

from hookline.domain.model import BackgroundTask
from hookline.store import task_results
from hookline.store.database import Database
from hookline.store.pagination import Page


async def page(
    db: Database,
    *,
    app_id: str | None,
    status: str | None,
    task: str | None,
    limit: int,
    iterator: str | None,
    descending: bool,
) -> Page[BackgroundTask]:
    async with db.read() as conn:
        return await task_results.page(
            conn, app_id=app_id, status=status, task=task, limit=limit, iterator=iterator, descending=descending
        )


async def get(db: Database, task_id: str) -> BackgroundTask | None:
    async with db.read() as conn:
        return await task_results.get_task(conn, task_id)
