"""HEAD for the health checks, as Svix offers: the same verdict as GET, without a body."""

from fastapi import APIRouter, Request, Response

from hookline.api.routes import health

router = APIRouter(prefix="/api/v1/health", tags=["Health"])


@router.head(
    "",
    status_code=204,
    response_class=Response,
    operation_id="v1.health.head",
    responses={503: {"description": "Database or engine unhealthy"}},
)
async def health_head(request: Request) -> Response:
    verdict = await health.health(request)
    return Response(status_code=204 if verdict.status_code == 200 else verdict.status_code)


@router.head("/ping", status_code=204, response_class=Response, operation_id="v1.health.ping-head")
async def ping_head() -> None:
    """Liveness: answers as long as the process serves HTTP."""
