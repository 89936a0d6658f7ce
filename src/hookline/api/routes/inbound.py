"""/in/{token}: ingest URLs, where providers post. Any content type, any path below the token;
no JSON, idempotency or token checks (the token in the URL is the capability)."""

from fastapi import APIRouter, Request, Response

from hookline.api.capture import read_captured
from hookline.api.deps import context
from hookline.domain.model import SANDBOXED_ANSWER_HEADERS
from hookline.services import ingest

router = APIRouter(include_in_schema=False)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _signed_url(request: Request, token: str, path: str) -> str:
    """The URL the sender used (some providers sign it): built on HOOKLINE_PUBLIC_URL when set."""
    public = request.app.state.settings.public_url
    if not public:
        return str(request.url)
    query = request.url.query
    return f"{public.rstrip('/')}/in/{token}{path}" + (f"?{query}" if query else "")


async def _receive(request: Request, token: str, path: str) -> Response:
    # A %00 in the URL decodes to NUL, which PostgreSQL text cannot hold: kept as it was sent.
    captured = await read_captured(request, path.replace("\x00", "%00"))
    answer = await ingest.receive(await context(request), token, captured, _signed_url(request, token, path))
    response = Response(answer.body, status_code=answer.status_code, media_type=answer.content_type)
    for name, value in (*answer.headers, *SANDBOXED_ANSWER_HEADERS):
        response.headers[name] = value
    return response


async def receive_root(request: Request) -> Response:
    """``/in/{token}``; answered before FastAPI's router (api/fastpath.py), as is the next."""
    return await _receive(request, request.path_params["token"], "")


async def receive_below(request: Request) -> Response:
    """``/in/{token}/{path}``."""
    return await _receive(request, request.path_params["token"], "/" + request.path_params["path"])


@router.api_route("/in/{token}", methods=list(METHODS))
async def ingest_root(request: Request, token: str) -> Response:
    return await receive_root(request)


@router.api_route("/in/{token}/{path:path}", methods=list(METHODS))
async def ingest_below(request: Request, token: str, path: str) -> Response:
    return await receive_below(request)
