"""Health checks."""

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from hookline.api.deps import context
from hookline.api.errors import JSONResponse
from hookline.services import stats
from hookline.services.context import now_ms

router = APIRouter(prefix="/api/v1/health", tags=["Health"])


def engine_stuck_after(request_timeout: float, poll_interval: float) -> float:
    """Seconds without a claim, while work is due, after which the engine counts as stuck:
    even with every slot held by hanging requests it claims again within a request timeout."""
    return 2 * request_timeout + 10 * poll_interval + 30


@router.get("", operation_id="v1.health.get", responses={503: {"description": "Database or engine unhealthy"}})
async def health(request: Request) -> JSONResponse:
    """The database (readable and writable) and the delivery engine: 200 when both are
    well, 503 when either is not."""
    state = request.app.state
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    due_since: float | None = None
    try:
        waiting = await stats.waiting(await context(request))
        body["backlog"] = waiting.unfinished
        if waiting.oldest_due_ms is not None and waiting.oldest_due_ms <= now_ms():
            due_since = (now_ms() - waiting.oldest_due_ms) / 1000
        body["oldestDueAgeSeconds"] = round(due_since or 0.0, 3)
    except Exception as exc:  # any failure here is what health reports
        body.update(status="unavailable", database="unavailable", error=type(exc).__name__)
    else:
        # Readable is not enough: a full disk refuses every publish while reads still work.
        not_writable = await state.db.writable()
        if not_writable is not None:
            body.update(status="unavailable", database="not_writable", error=not_writable)
    engine = state.engine
    if engine is not None:
        claim_age = None if engine.last_claim_at is None else time.time() - engine.last_claim_at
        settings = state.settings
        limit = engine_stuck_after(settings.request_timeout, settings.poll_interval)
        stuck = not engine.running or (due_since is not None and (claim_age or 0) > limit)
        body["engine"] = {
            "running": engine.running,
            "lastClaimAgeSeconds": None if claim_age is None else round(claim_age, 3),
            "status": "stuck" if stuck else "ok",
        }
        if stuck:
            body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/ping", status_code=204, response_class=Response, operation_id="v1.health.ping")
async def ping() -> None:
    """Liveness: answers as long as the process serves HTTP."""
