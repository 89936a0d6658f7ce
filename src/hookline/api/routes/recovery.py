"""Recover failed deliveries and replay missing ones, as background tasks.

``recover`` sends again every message whose delivery to the endpoint failed in a
window; ``replay-missing`` sends the endpoint the messages it should have had but
never got (for example while it was disabled or did not exist yet). Both answer
at once with a task; ``GET /api/v1/background-task/{id}`` shows its progress.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Path, Request
from pydantic import Field

from hookline.api.deps import AppId, Auth, Db, EndpointId, IdempotencyKey, load_app, to_ms
from hookline.api.schemas import Model, ms_to_datetime
from hookline.store import endpoints, recovery, tasks
from hookline.store.database import Conn, Database, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.tables import Row

router = APIRouter(tags=["Endpoint"])
log = structlog.get_logger("hookline.tasks")
_BATCH = 500
TaskType = Literal["endpoint.recover", "endpoint.replay"]
TaskStatus = Literal["running", "finished", "failed"]


class RecoverIn(Model):
    since: datetime
    until: datetime | None = None


class BackgroundTaskOut(Model):
    id: str
    status: TaskStatus
    task: TaskType
    updated_at: datetime
    data: dict[str, Any] = Field(description="Progress: `done` of `total` messages; `error` when failed")


def task_out(row: Row) -> BackgroundTaskOut:
    data: dict[str, Any] = {"done": row["done"], "total": row["total"]}
    if row["error"]:
        data["error"] = row["error"]
    return BackgroundTaskOut(
        id=row["id"], status=row["status"], task=row["task"], updated_at=ms_to_datetime(row["updated_at"]), data=data
    )


Apply = Callable[[Conn, Row, Sequence[str], int], Awaitable[None]]


async def _run(db: Database, task_id: str, endpoint: Row, msg_ids: list[str], apply: Apply, wake: Any) -> None:
    done = 0
    try:
        for start in range(0, len(msg_ids), _BATCH):
            chunk = msg_ids[start : start + _BATCH]
            async with db.write() as conn:
                await apply(conn, endpoint, chunk, now_ms())
                done += len(chunk)
                await tasks.progress(conn, task_id, done)
            if wake:
                wake()
        async with db.write() as conn:
            await tasks.progress(conn, task_id, done, tasks.FINISHED)
    except Exception as exc:
        log.exception("background task failed", task_id=task_id)
        async with db.write() as conn:
            await tasks.progress(conn, task_id, done, tasks.FAILED, f"{type(exc).__name__}: {exc}")


async def _start(
    request: Request, db: Database, who: Any, app_id: str, endpoint_id: str, body: RecoverIn, kind: TaskType
) -> BackgroundTaskOut:
    app = await load_app(db, who, app_id)
    since, until = to_ms(body.since) or 0, to_ms(body.until)
    async with db.write() as conn:
        endpoint = await endpoints.get(conn, app["id"], endpoint_id)
        if kind == "endpoint.recover":
            msg_ids, apply = await recovery.failed_messages(conn, endpoint, since, until), recovery.resend
        else:
            msg_ids, apply = await recovery.missing_messages(conn, endpoint, since, until), recovery.send_missing
        task = await tasks.create(conn, app["id"], kind, len(msg_ids))
    engine = request.app.state.engine
    running: set[asyncio.Task[None]] = request.app.state.background_tasks
    job = asyncio.create_task(_run(db, task["id"], endpoint, msg_ids, apply, engine.wake if engine else None))
    running.add(job)
    job.add_done_callback(running.discard)
    return task_out(task)


@router.post(
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover",
    status_code=202,
    response_model=BackgroundTaskOut,
    operation_id="v1.endpoint.recover",
)
async def recover_failed(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: RecoverIn,
    request: Request,
    who: Auth,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> BackgroundTaskOut:
    """Send again, to the endpoint's current URL, every message whose delivery failed in the window."""
    return await _start(request, db, who, app_id, endpoint_id, body, "endpoint.recover")


@router.post(
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/replay-missing",
    status_code=202,
    response_model=BackgroundTaskOut,
    operation_id="v1.endpoint.replay-missing",
)
async def replay_missing(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: RecoverIn,
    request: Request,
    who: Auth,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> BackgroundTaskOut:
    """Send the endpoint the messages of the window it matches now but never got."""
    return await _start(request, db, who, app_id, endpoint_id, body, "endpoint.replay")


@router.get(
    "/api/v1/background-task/{task_id}",
    response_model=BackgroundTaskOut,
    operation_id="v1.background-task.get",
    tags=["Background Task"],
)
async def get_background_task(
    task_id: Annotated[str, Path(pattern=r"^[a-zA-Z0-9\-_.]+$", max_length=64)], who: Auth, db: Db
) -> BackgroundTaskOut:
    async with db.read() as conn:
        row = await tasks.get(conn, task_id)
    if row is None or (who.app_id is not None and row["app_id"] != who.app_id):
        raise NotFoundError("background task")
    return task_out(row)
