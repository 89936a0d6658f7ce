"""How an application's pages and changes answer their viewer, the operator (/ui/apps/{app}) or
a tenant (/portal): the router's ``resolve`` finds the viewer (or answers itself, such as
"sign in"), the handler answers with a ``page`` or a refusal (``refused``; a 404 for what is
not there), and the router's ``finish`` may add headers. Shared by ``apppages`` and
``appchanges``.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookline.domain.model import DeliveryStatus
from hookline.errors import NotFound
from hookline.ui.forms import NOTHING, Refusal
from hookline.ui.scope import Viewer
from hookline.ui.web import pretty, render, when

Resolve = Callable[[Request], Awaitable[Viewer | Response]]
Finish = Callable[[Request, Viewer | None, Response], Response]
Run = Callable[[Request, Callable[[Viewer], Awaitable[Response]]], Awaitable[Response]]
STATUS_NAMES = {
    DeliveryStatus.SUCCESS: "succeeded",
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.FAIL: "failed",
    DeliveryStatus.SENDING: "sending",
}


def page(template: str, viewer: Viewer, code: int = 200, refusal: Refusal = NOTHING, **context: Any) -> Response:
    response = render(
        template,
        400 if refusal.form else code,
        None,
        viewer=viewer,
        session=viewer.session,
        base=viewer.base,
        when=when,
        pretty=pretty,
        status_names=STATUS_NAMES,
        refusal=refusal,
        **context,
    )
    return response


def refused(viewer: Viewer, code: int, title: str, detail: str, back: str | None = None) -> Response:
    return render(
        "error.html",
        code,
        None,
        title=title,
        detail=detail,
        status=code,
        session=viewer.session,
        viewer=viewer,
        back=back,
    )


def runner(resolve: Resolve, finish: Finish | None) -> Run:
    """How an application page answers: the viewer ``resolve`` finds (or its answer, such as
    sign in), then the handler's page, a 404 page for what is not found, and ``finish``."""

    async def run(request: Request, handler: Callable[[Viewer], Awaitable[Response]]) -> Response:
        viewer = await resolve(request)
        if isinstance(viewer, Response):
            return viewer
        try:
            response = await handler(viewer)
        except NotFound as exc:
            response = refused(viewer, 404, "Not found", f"There is no such {exc.what} here.")
        return response if finish is None else finish(request, viewer, response)

    return run
