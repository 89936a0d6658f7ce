"""The operator dashboard at /ui/: server-rendered pages over the same database as the API."""

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from hookline.ui import inbound, operator, portal, tokens
from hookline.ui.pages import router
from hookline.ui.sessions import LoginLimiter
from hookline.ui.web import Static, redirect


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: its pages, its static files and its sign-in limiter."""
    app.state.ui_login_limiter = LoginLimiter()
    app.add_route("/", _home, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/ui/static", Static(), name="ui-static")
    app.include_router(operator.router)
    app.include_router(inbound.router)
    app.include_router(portal.router)
    app.include_router(tokens.router)
    app.include_router(router)  # last: its catch-all answers 404 for any other /ui/ address


async def _home(request: Request) -> Response:
    """The server's address opened in a browser: the dashboard (API clients never ask for /)."""
    return redirect("/ui/")


__all__ = ["install"]
