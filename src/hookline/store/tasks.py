"""Background tasks as durable jobs: rows claimed under a lease, like deliveries.

A running job whose lease is free (``locked_until`` NULL or past) may be claimed
by any process that runs a job runner. Its holder commits each batch of work
together with its progress (``cursor``, ``done``) and a renewed lease, fenced on
the lease it holds: if it stalled and another process took the job, its batch
rolls back. So a job whose process died is resumed where its last batch ended.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, text, update

from hookline.domain.ids import new_id
from hookline.domain.model import BackgroundTask
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms

bt = t.background_task
RUNNING, FINISHED, FAILED = "running", "finished", "failed"
# PostgreSQL: processes running jobs LISTEN here, so a job starts at once on any of them.
JOBS_CHANNEL = "hookline_jobs"


@dataclass(frozen=True)
class Job:
    id: str
    app_id: str
    task: str
    params: dict[str, Any] | None  # None: a task from before jobs were durable
    cursor: str | None
    done: int
    total: int
    locked_until: int  # the lease this holder owns: the fence for every write


class LeaseLostError(Exception):
    """Another process took the job (our lease ran out): this batch must not commit."""


async def create(
    conn: Conn, app_id: str, task: str, total: int, params: dict[str, Any], *, finished: bool = False
) -> BackgroundTask:
    """A job for the runners, or (``finished``) the record of work already done in the request."""
    now = now_ms()
    row: dict[str, Any] = {
        "id": new_id("qtask", now),
        "app_id": app_id,
        "task": task,
        "status": FINISHED if finished else RUNNING,
        "done": total if finished else 0,
        "total": total,
        "error": None,
        "created_at": now,
        "updated_at": now,
        "params": params,
        "cursor": None,
        "locked_until": None,
    }
    await conn.execute(insert(bt), row)
    if conn.dialect.name == "postgresql" and not finished:
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": JOBS_CHANNEL})
    return records.background_task(row)


async def get(conn: Conn, task_id: str) -> BackgroundTask | None:
    row = (await conn.execute(select(bt).where(bt.c.id == task_id))).mappings().first()
    return None if row is None else records.background_task(row)


async def claim(conn: Conn, now: int, lease_ms: int) -> Job | None:
    """Lease the oldest running job nobody holds, or return None."""
    free = or_(bt.c.locked_until.is_(None), bt.c.locked_until <= now)
    found = (
        await conn.execute(
            select(bt.c.id)
            .where(bt.c.status == RUNNING, free)
            .order_by(bt.c.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if found is None:
        return None
    lease = now + lease_ms
    row = (
        (
            await conn.execute(
                update(bt)
                .where(bt.c.id == found.id, bt.c.status == RUNNING, free)
                .values(locked_until=lease)
                .returning(bt)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Job(row["id"], row["app_id"], row["task"], row["params"], row["cursor"], row["done"], row["total"], lease)


async def advance(conn: Conn, job: Job, done: int, cursor: str | None, now: int, lease_ms: int) -> Job:
    """Record progress and renew the lease, in the transaction that did the work.

    Raises :class:`LeaseLostError` (so the caller's transaction rolls back) when
    the job is no longer ours.
    """
    lease = now + lease_ms
    result = await conn.execute(
        update(bt)
        .where(bt.c.id == job.id, bt.c.status == RUNNING, bt.c.locked_until == job.locked_until)
        .values(done=job.done + done, cursor=cursor, locked_until=lease, updated_at=now)
    )
    if not result.rowcount:
        raise LeaseLostError(job.id)
    return Job(job.id, job.app_id, job.task, job.params, cursor, job.done + done, job.total, lease)


async def finish(conn: Conn, job: Job, status: str, error: str | None = None) -> bool:
    """Mark the job finished or failed, if it is still ours."""
    result = await conn.execute(
        update(bt)
        .where(bt.c.id == job.id, bt.c.status == RUNNING, bt.c.locked_until == job.locked_until)
        .values(status=status, error=error, locked_until=None, updated_at=now_ms())
    )
    return bool(result.rowcount)


async def claimable(conn: Conn, now: int) -> bool:
    """Whether any running job is free to claim (a cheap look before a write)."""
    free = or_(bt.c.locked_until.is_(None), bt.c.locked_until <= now)
    return (await conn.execute(select(bt.c.id).where(bt.c.status == RUNNING, free).limit(1))).first() is not None


async def release(conn: Conn, job: Job) -> None:
    """Hand a job back (a clean stop): any process may claim it at once."""
    await conn.execute(
        update(bt).where(bt.c.id == job.id, bt.c.locked_until == job.locked_until).values(locked_until=None)
    )
