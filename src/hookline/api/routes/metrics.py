"""/metrics: Prometheus exposition (admin token required)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from hookline import metrics
from hookline.api.deps import Auth, Ctx
from hookline.services import stats
from hookline.services.context import now_ms

router = APIRouter(tags=["Health"])


@router.get(
    "/metrics",
    response_class=Response,
    operation_id="v1.metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
)
async def prometheus_metrics(who: Auth, ctx: Ctx) -> Response:
    who.require_admin()
    waiting = await stats.waiting(ctx)
    metrics.BACKLOG.set(waiting.unfinished)
    due_for = 0.0 if waiting.oldest_due_ms is None else max(0.0, (now_ms() - waiting.oldest_due_ms) / 1000)
    metrics.OLDEST_DUE_SECONDS.set(due_for)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
