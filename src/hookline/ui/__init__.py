"""The operator dashboard at /ui/: server-rendered pages over the same database as the API."""

from fastapi import FastAPI

from hookline.ui import inbound, operator, portal
from hookline.ui.pages import router
from hookline.ui.sessions import LoginLimiter
from hookline.ui.web import Static


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: its pages, its static files and its sign-in limiter."""
    app.state.ui_login_limiter = LoginLimiter()
    app.mount("/ui/static", Static(), name="ui-static")
    app.include_router(operator.router)
    app.include_router(inbound.router)
    app.include_router(portal.router)
    app.include_router(router)  # last: its catch-all answers 404 for any other /ui/ address


__all__ = ["install"]
