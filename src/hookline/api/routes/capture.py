"""``/i/{token}``: capture URLs. Any method, any content type, any path below the token; each
request is recorded exactly as sent (``services.inspect.capture``) and answered as the bin says."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hookline.api.capture import read_captured
from hookline.domain.model import SANDBOXED_ANSWER_HEADERS, answerable_header, origin_header_refused
from hookline.services import inspect
from hookline.services.context import Context

_PREFIX = "/i/"
# Set by the server for the connection; a listener's answer does not carry them over.
_NOT_PASSED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date", "server"}
)


def _suffix(request: Request, token: str) -> str:
    """The path below ``/i/{token}``, as sent (percent-encoding kept)."""
    raw: bytes = request.scope.get("raw_path") or str(request.scope["path"]).encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    return path[len(_PREFIX) + len(token) :]


async def capture(request: Request) -> Response:
    token = request.path_params["token"]
    state = request.app.state
    ctx = Context(db=state.db, settings=state.settings, engine=state.engine)
    captured = await read_captured(request, _suffix(request, token))
    reply = await inspect.capture(ctx, state.inspect_hub, token, captured)
    empty = request.method == "HEAD" or reply.status in (204, 304)
    response = Response(content=b"" if empty else reply.body, status_code=reply.status)
    for name, value in reply.headers:
        # A listener's answer is relayed as its local server gave it: a header HTTP cannot
        # carry (a non-Latin-1 or control character) is left out, or the sender got a 500.
        # (A cookie from a listener's local server, or from a bin made before such headers
        # were refused, is left out too: origin_header_refused.)
        if name.lower() not in _NOT_PASSED and answerable_header(name, value) and not origin_header_refused(name):
            response.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    response.raw_headers.extend((name.encode(), value.encode()) for name, value in SANDBOXED_ANSWER_HEADERS)
    return response


class _AnyMethod:
    """An ASGI app, not a function: Starlette then routes every method to it, odd ones too."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await capture(Request(scope, receive))
        await response(scope, receive, send)


# Not API operations, so not in the OpenAPI document.
routes = [Route("/i/{token}", _AnyMethod()), Route("/i/{token}/{rest:path}", _AnyMethod())]
