"""GET /api/v1/background-task: the background tasks, filtered by status and kind."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from hookline.api.deps import Auth, Db, Iterator, Limit, Order
from hookline.api.schemas import ListResponse, Model, ms_to_datetime
from hookline.domain.model import BackgroundTask
from hookline.errors import NotFound
from hookline.services import background_tasks
from hookline.services.recovery import listed_kind

router = APIRouter(prefix="/api/v1/background-task", tags=["Background Task"])
TaskStatus = Literal["running", "finished", "failed"]
# Svix's kinds that hookline runs, and hookline's own application-wide bulk replay.
TaskKind = Literal[
    "endpoint.replay",
    "endpoint.recover",
    "endpoint.bulk-replay",
    "application.bulk-replay",
    "application.stats",
    "event-type.aggregate",
    "application.purge_content",
]


class TaskOut(Model):
    id: str
    status: TaskStatus
    task: str
    updated_at: datetime
    data: dict[str, Any] = Field(description="Progress (`done` of `total`, `error`) and, when finished, the result")


def task_out(row: BackgroundTask, *, listed: bool = False) -> TaskOut:
    data: dict[str, Any] = {"done": row.done, "total": row.total}
    if row.error:
        data["error"] = row.error
    data.update(row.data or {})
    updated = ms_to_datetime(row.updated_at)
    return TaskOut(
        id=row.id,
        status=row.status,
        task=listed_kind(row.task) if listed else row.task,
        updated_at=updated,
        data=data,
    )


@router.get("", response_model=ListResponse[TaskOut], operation_id="v1.background-task.list")
async def list_background_tasks(
    who: Auth,
    db: Db,
    status: TaskStatus | None = None,
    task: TaskKind | None = None,
    limit: Limit = 50,
    iterator: Iterator = None,
    order: Order = "descending",
) -> ListResponse[TaskOut]:
    """Background tasks, newest first by default. Admin tokens only, as in Svix (an application's
    token reads its own tasks by id)."""
    who.require_admin()
    page = await background_tasks.page(
        db,
        app_id=None,
        status=status,
        task=task,
        limit=limit,
        iterator=iterator,
        descending=order == "descending",
    )
    return ListResponse(
        data=[task_out(r, listed=True) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.get("/{task_id}", response_model=TaskOut, operation_id="v1.background-task.get")
async def get_background_task(
    task_id: Annotated[str, Path(pattern=r"^[a-zA-Z0-9\-_.]+$", max_length=64)], who: Auth, db: Db
) -> TaskOut:
    row = await background_tasks.get(db, task_id)
    if row is None or (who.app_id is not None and row.app_id != who.app_id):
        raise NotFound("background task")
    return task_out(row)
