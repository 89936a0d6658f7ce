"""The dashboard's routes: sign-in, sign-out and the overview."""

import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.auth import Principal, authenticate
from hookline.api.errors import ApiError
from hookline.errors import HooklineError, NotFound
from hookline.services import dashboard, tokens
from hookline.services.context import Context
from hookline.ui.forms import BadForm, Form, Refusal, refuse
from hookline.ui.sessions import LoginLimiter, Session, csrf_for
from hookline.ui.web import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    client_address,
    csrf_given,
    ctx_of,
    error_page,
    new_token,
    read_form,
    redirect,
    render,
    secured,
    set_cookie,
    tokens_match,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
_RANGES = {"hour": 3_600_000, "day": 86_400_000}
_MINUTE = 60_000
_LIST_LIMIT = 10


async def _session(request: Request) -> Session | None:
    """The operator's live session, from its cookie (None: signed out, expired or revoked)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = await tokens.dashboard_session(
        request.app.state.db, cookie, admin_token=request.app.state.settings.admin_token
    )
    if found is None or found.expires_at is None:
        return None
    return Session(found.id, csrf_for(cookie), found.expires_at / 1000)


async def session_of(request: Request) -> Session | None:
    return await _session(request)


def signed_out(request: Request) -> Response:
    """Where a page sends a visitor without a session: to sign in (HTMX: the whole page)."""
    if request.headers.get("hx-request"):
        return secured(Response(status_code=204, headers={"HX-Redirect": "/ui/login"}))
    return redirect("/ui/login")


def csrf_refused(session: Session | None = None) -> Response:
    return _csrf_refused(session)


async def posted_form(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """A dashboard form's session and fields, once both the session and the form's CSRF token
    are good; else the answer to give (sign in, or 403)."""
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    typed = await read_form(request)
    if typed is None or not tokens_match(session.csrf_token, csrf_given(request, typed)):
        return csrf_refused(session)
    return session, typed


Act = Callable[[Context, dict[str, str]], Awaitable[str]]  # a change: the page to go to next
Again = Callable[[Session, Refusal], Awaitable[Response]]  # the form's page again, with its refusal


async def change(
    request: Request, form: Form, act: Act, again: Again, missing: Callable[[NotFound], str], back: str | None = None
) -> Response:
    """Run one change an operator posted with ``form``: the CSRF token first, then the use-case;
    a redirect (303) to the page ``act`` returns, a 404 page saying what is ``missing``, or the
    form's page ``again`` (400) with the form as typed and what to change."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, typed = posted
    try:
        return redirect(await act(ctx_of(request), typed))
    except NotFound as exc:
        return error_page(404, "Not found", missing(exc), session, back=back)
    except (ValidationError, BadForm, HooklineError) as exc:
        return await again(session, refuse(form, typed, exc))


def _csrf_refused(session: Session | None = None) -> Response:
    return error_page(
        403,
        "This form has expired",
        "The request did not carry this page's security token, so it was refused. Reload the page and try again.",
        session,
    )


@router.get("")
async def root() -> Response:
    return redirect("/ui/")


@router.get("/login")
async def login_page(request: Request) -> Response:
    if await _session(request):
        return redirect("/ui/")
    notice = "You are signed out." if "out" in request.query_params else None
    return _login_form(request, 200, error=None, notice=notice)


def _login_form(request: Request, status: int, *, error: str | None, notice: str | None = None) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or new_token()
    response = render("login.html", status, csrf_token=token, error=error, notice=notice, session=None)
    set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    limiter: LoginLimiter = request.app.state.ui_login_limiter
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        seconds = math.ceil(wait)
        return error_page(
            429,
            "Too many sign-in attempts",
            f"Too many wrong tokens from your address. Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    form = await read_form(request)
    if form is None or not tokens_match(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return _csrf_refused()
    token = form.get("token", "").strip()
    admin = await _check_admin(request, token)
    if isinstance(admin, str):
        limiter.failed(address)
        return _login_form(request, 401, error=admin)
    settings = request.app.state.settings
    lifetime = settings.ui_session_hours * 3600
    cookie = await tokens.start_dashboard_session(
        request.app.state.db, lifetime, opened_with=admin.token_id, admin_token=settings.admin_token
    )
    response = redirect("/ui/")
    set_cookie(response, request, SESSION_COOKIE, cookie, max_age=int(lifetime))
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


async def _check_admin(request: Request, token: str) -> Principal | str:
    """The admin this token is, or why it may not sign in: the API's own check."""
    if not token:
        return "Enter an admin token."
    try:
        principal = await authenticate(request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token))
    except ApiError:
        return "That token is not valid."
    if not principal.is_admin:
        return "That token belongs to one application; the dashboard needs an admin token."
    return principal


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return redirect("/ui/login")
    form = await read_form(request)
    if not tokens_match(session.csrf_token, csrf_given(request, form)):
        return _csrf_refused(session)
    await tokens.end_dashboard_session(request.app.state.db, session.id)
    response = redirect("/ui/login?out")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/")
async def overview(request: Request, range_: Annotated[str, Query(alias="range")] = "hour") -> Response:
    session = await _session(request)
    if session is None:
        if request.headers.get("hx-request"):
            # An in-place refresh after the session ended: send the whole page to sign-in.
            return secured(Response(status_code=204, headers={"HX-Redirect": "/ui/login"}))
        return redirect("/ui/login")
    if range_ not in _RANGES:
        return error_page(400, "Unknown range", "The range parameter must be hour or day.", session)
    db = request.app.state.db
    until = int(time.time() * 1000)
    since = until - _RANGES[range_]
    found = await dashboard.overview(db, since, until, _MINUTE, _LIST_LIMIT)
    series = found.series
    context: dict[str, Any] = {
        "session": session,
        "nav": "overview",
        "range": range_,
        "backlog": found.backlog,
        "p95_ms": found.p95_ms,
        "series": series,
        "chart": {
            "t": [s // 1000 for s in series.starts_ms],
            "ok": series.succeeded,
            "fail": series.failed,
        },
        "app_count": found.app_count,
        "apps": found.apps,
        "troubled": found.troubled,
        "now_ms": until,
    }
    return render("overview.html", **context)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_found(request: Request) -> Response:
    return error_page(404, "Page not found", "There is no dashboard page at this address.", await _session(request))
