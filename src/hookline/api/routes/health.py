"""Health checks."""

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from hookline.api.errors import JSONResponse

router = APIRouter(prefix="/api/v1/health", tags=["Health"])


@router.get("", operation_id="v1.health.get", responses={503: {"description": "Database or engine unhealthy"}})
async def health(request: Request) -> JSONResponse:
    """Report the database and the delivery engine; 503 when either is unwell."""
    state = request.app.state
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        async with state.db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        body.update(status="unavailable", database="unavailable", error=type(exc).__name__)
    engine = state.engine
    if engine is not None:
        body["engine"] = {
            "running": engine.running,
            "lastClaimAgeSeconds": None
            if engine.last_claim_at is None
            else round(time.time() - engine.last_claim_at, 3),
        }
        if not engine.running:
            body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/ping", status_code=204, response_class=Response, operation_id="v1.health.ping")
async def ping() -> None:
    """Liveness: answers as long as the process serves HTTP."""
