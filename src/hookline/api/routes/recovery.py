"""Recover failed deliveries and replay missing ones, as background tasks.

``recover`` sends again every message whose delivery to the endpoint failed in a
window; ``replay-missing`` sends the endpoint the messages it should have had but
never got (for example while it was disabled or did not exist yet). Both answer
at once with a task; ``GET /api/v1/background-task/{id}`` shows its progress.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Path, Request
from pydantic import Field

from hookline.api.deps import AppId, Auth, Db, EndpointId, IdempotencyKey, load_app, to_ms
from hookline.api.schemas import Channel, MessageStatus, Model, Name, ms_to_datetime
from hookline.store import endpoints, recovery, tasks
from hookline.store.database import Conn, Database, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.tables import Row

router = APIRouter(tags=["Endpoint"])
log = structlog.get_logger("hookline.tasks")
_BATCH = 500
TaskType = Literal["endpoint.recover", "endpoint.replay", "endpoint.bulk-replay", "application.bulk-replay"]
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


Apply = Callable[[Conn, Sequence[Any], int], Awaitable[None]]


async def _run(db: Database, task_id: str, items: Sequence[Any], apply: Apply, wake: Any) -> None:
    done = 0
    try:
        for start in range(0, len(items), _BATCH):
            chunk = items[start : start + _BATCH]
            async with db.write() as conn:
                await apply(conn, chunk, now_ms())
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
            msg_ids = await recovery.failed_messages(conn, endpoint, since, until)
            apply: Apply = partial(_for_endpoint, recovery.resend, endpoint)
        else:
            msg_ids = await recovery.missing_messages(conn, endpoint, since, until)
            apply = partial(_for_endpoint, recovery.send_missing, endpoint)
    return await _launch(request, db, app["id"], kind, msg_ids, apply)


async def _for_endpoint(
    fn: Callable[[Conn, Row, Sequence[str], int], Awaitable[None]],
    endpoint: Row,
    conn: Conn,
    msg_ids: Sequence[str],
    now: int,
) -> None:
    await fn(conn, endpoint, msg_ids, now)


async def _launch(
    request: Request, db: Database, app_id: str, kind: TaskType, items: Sequence[Any], apply: Apply
) -> BackgroundTaskOut:
    async with db.write() as conn:
        task = await tasks.create(conn, app_id, kind, len(items))
    engine = request.app.state.engine
    running: set[asyncio.Task[None]] = request.app.state.background_tasks
    job = asyncio.create_task(_run(db, task["id"], items, apply, engine.wake if engine else None))
    running.add(job)
    job.add_done_callback(running.discard)
    return task_out(task)


class BulkReplayIn(RecoverIn):
    event_types: list[Name] | None = None
    channel: Channel | None = None
    status: MessageStatus | None = None


def _replay_filter(body: BulkReplayIn) -> recovery.ReplayFilter:
    return recovery.ReplayFilter(
        since_ms=to_ms(body.since) or 0,
        until_ms=to_ms(body.until),
        event_types=body.event_types,
        channel=body.channel,
        status=None if body.status is None else int(body.status),
    )


@router.post(
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/bulk-replay",
    status_code=202,
    response_model=BackgroundTaskOut,
    operation_id="v1.endpoint.bulk-replay",
)
async def bulk_replay_endpoint(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: BulkReplayIn,
    request: Request,
    who: Auth,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> BackgroundTaskOut:
    """Send the endpoint again every message of the window matching the filters
    (event types, channel, delivery status)."""
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        endpoint = await endpoints.get(conn, app["id"], endpoint_id)
        pairs = await recovery.matching_deliveries(conn, [endpoint["id"]], _replay_filter(body))
    return await _launch(request, db, app["id"], "endpoint.bulk-replay", pairs, recovery.replay_pairs)


@router.post(
    "/api/v1/app/{app_id}/bulk-replay",
    status_code=202,
    response_model=BackgroundTaskOut,
    operation_id="v1.application.bulk-replay",
    tags=["Application"],
)
async def bulk_replay_application(
    app_id: AppId, body: BulkReplayIn, request: Request, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> BackgroundTaskOut:
    """The same for every endpoint of the application."""
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        endpoint_ids = [row["id"] for row in await endpoints.for_app(conn, app["id"])]
        pairs = await recovery.matching_deliveries(conn, endpoint_ids, _replay_filter(body))
    return await _launch(request, db, app["id"], "application.bulk-replay", pairs, recovery.replay_pairs)


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
