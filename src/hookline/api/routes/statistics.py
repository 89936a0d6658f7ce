"""/api/v1/stats/usage: usage across applications, answered as finished background tasks.

Svix queues these and the caller polls the task; hookline computes them in the request
(they are single aggregate queries) and answers with the task already ``finished``, its
result in the task's ``data`` (``GET /api/v1/background-task``).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from hookline.api.deps import Auth, Db, IdempotencyKey, to_ms
from hookline.api.routes.background_tasks import TaskStatus
from hookline.api.schemas import Model, Name, ms_to_datetime
from hookline.domain.model import BackgroundTask
from hookline.errors import NotFound
from hookline.services import statistics

router = APIRouter(prefix="/api/v1/stats/usage", tags=["Statistics"])


class AppUsageStatsIn(Model):
    model_config = ConfigDict(extra="forbid")
    since: datetime
    until: datetime
    app_ids: Annotated[list[Name], Field(min_length=1, max_length=1000)] | None = None


class StatsTaskOut(Model):
    id: str
    status: TaskStatus
    task: str
    updated_at: datetime


class AppUsageStatsOut(StatsTaskOut):
    unresolved_app_ids: list[str] = Field(description="Requested ids or uids that name no application")


def _task(row: BackgroundTask) -> dict[str, object]:
    return {
        "id": row.id,
        "status": row.status,
        "task": row.task,
        "updated_at": ms_to_datetime(row.updated_at),
    }


@router.post("/app", status_code=202, response_model=AppUsageStatsOut, operation_id="v1.statistics.aggregate-app-stats")
async def aggregate_app_stats(
    body: AppUsageStatsIn, who: Auth, db: Db, idempotency_key: IdempotencyKey = None
) -> AppUsageStatsOut:
    """Message destinations (deliveries, message x endpoint) per application in ``[since, until)``
    (an empty window counts nothing)."""
    who.require_admin()
    try:
        result = await statistics.app_stats(db, to_ms(body.since) or 0, to_ms(body.until) or 0, body.app_ids)
    except statistics.NoAppResolvedError:
        # Svix answers 422; a well-formed request naming unknown applications is a 404 here,
        # as everywhere else in hookline's API.
        raise NotFound("application: none of appIds names an application") from None
    return AppUsageStatsOut(**_task(result.task), unresolved_app_ids=result.unresolved)


@router.put(
    "/event-types", status_code=202, response_model=StatsTaskOut, operation_id="v1.statistics.aggregate-event-types"
)
async def aggregate_event_types(who: Auth, db: Db) -> StatsTaskOut:
    """Per application: the event types its endpoints subscribe to, and whether one takes every type."""
    who.require_admin()
    return StatsTaskOut(**_task(await statistics.event_types(db)))
