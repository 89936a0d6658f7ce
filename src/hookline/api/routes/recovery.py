"""Recover failed deliveries and replay missing ones, as background tasks.

``recover`` sends again every message whose delivery to the endpoint failed in a
window; ``replay-missing`` sends the endpoint the messages it should have had but
never got (for example while it was disabled or did not exist yet). Both answer
at once with a task, a durable job that any process running the engine works
(``services.recovery``); ``GET /api/v1/background-task/{id}`` (routes/background_tasks.py) shows its progress.
"""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from hookline.api.deps import AppId, Auth, Db, EndpointId, IdempotencyKey, load_app, to_ms
from hookline.api.schemas import Channel, MessageStatus, Model, Name, Tag, ms_to_datetime
from hookline.domain.model import BackgroundTask
from hookline.services import recovery as jobs

router = APIRouter(tags=["Endpoint"])
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


def task_out(row: BackgroundTask) -> BackgroundTaskOut:
    data: dict[str, Any] = {"done": row.done, "total": row.total}
    if row.error:
        data["error"] = row.error
    return BackgroundTaskOut(
        id=row.id,
        status=row.status,
        task=row.task,
        updated_at=ms_to_datetime(row.updated_at),
        data=data,
    )


def _started(request: Request, task: BackgroundTask) -> BackgroundTaskOut:
    # The job row is committed: wake this process's job runner (others hear a NOTIFY).
    runner = request.app.state.jobs
    if runner is not None:
        runner.wake()
    return task_out(task)


class BulkReplayIn(RecoverIn):
    event_types: list[Name] | None = None
    channel: Channel | None = None
    status: MessageStatus | None = None
    tag: Tag | None = Field(default=None, description="Only messages with this tag")
    status_code_class: None = Field(
        default=None, description="Refused (422): deliveries are chosen by `status`, not by response code"
    )


def _replay_filter(body: BulkReplayIn) -> jobs.ReplayFilter:
    return jobs.ReplayFilter(
        since_ms=to_ms(body.since) or 0,
        until_ms=to_ms(body.until),
        event_types=body.event_types,
        channel=body.channel,
        status=None if body.status is None else int(body.status),
        tag=body.tag,
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
    return _started(request, await jobs.start_bulk_replay(db, app.id, endpoint_id, _replay_filter(body)))


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
    return _started(request, await jobs.start_bulk_replay(db, app.id, None, _replay_filter(body)))


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
    app = await load_app(db, who, app_id)
    task = await jobs.start_recover(db, app.id, endpoint_id, to_ms(body.since) or 0, to_ms(body.until))
    return _started(request, task)


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
    app = await load_app(db, who, app_id)
    task = await jobs.start_replay_missing(db, app.id, endpoint_id, to_ms(body.since) or 0, to_ms(body.until))
    return _started(request, task)
