"""Background tasks: status and progress of long operations."""

from typing import Any

from sqlalchemy import insert, select, update

from hookline.domain.ids import new_id
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.tables import Row

bt = t.background_task
RUNNING, FINISHED, FAILED = "running", "finished", "failed"


async def create(conn: Conn, app_id: str, task: str, total: int) -> Row:
    now = now_ms()
    row: dict[str, Any] = {
        "id": new_id("qtask", now),
        "app_id": app_id,
        "task": task,
        "status": RUNNING,
        "done": 0,
        "total": total,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(insert(bt), row)
    return row


async def get(conn: Conn, task_id: str) -> Row | None:
    return (await conn.execute(select(bt).where(bt.c.id == task_id))).mappings().first()


async def progress(conn: Conn, task_id: str, done: int, status: str = RUNNING, error: str | None = None) -> None:
    values = {"done": done, "status": status, "error": error, "updated_at": now_ms()}
    await conn.execute(update(bt).where(bt.c.id == task_id).values(values))


async def fail_interrupted(conn: Conn) -> None:
    """Tasks that were running when their process stopped will not finish: say so."""
    error = "interrupted: hookline stopped while this task ran; start it again"
    await conn.execute(update(bt).where(bt.c.status == RUNNING).values(status=FAILED, error=error, updated_at=now_ms()))
