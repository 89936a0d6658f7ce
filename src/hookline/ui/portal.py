"""The tenant portal at /portal/: one application's pages, opened by a magic link.

``POST /api/v1/auth/app-portal-access`` returns ``/portal/open#link=…``. The link's secret rides
in the fragment, so it never reaches a server log or a Referer; the page posts it (a GET changes
nothing), and the link becomes a session once only, recorded in the database so that a second
use fails in every process. The session lasts while the portal token works: expire-all and
expiry end both. Pages may be framed by the origins of HOOKLINE_PORTAL_FRAME_ANCESTORS only.
"""

import hashlib
import math
import secrets
import time
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.auth import Principal
from hookline.api.errors import ApiError
from hookline.errors import NotFound
from hookline.services import applications, tokens
from hookline.ui import appchanges, apppages
from hookline.ui.scope import API_CALLS, Theme, Viewer
from hookline.ui.web import (
    CSRF_FIELD,
    clear_cookie,
    ctx_of,
    new_token,
    read_form,
    redirect,
    render,
    script_sources,
    set_cookie,
    tokens_match,
)

router = APIRouter(prefix="/portal", include_in_schema=False)
SESSION_COOKIE = "hookline_portal"
OPEN_COOKIE = "hookline_portal_open"  # the CSRF token of the page that opens a link
THEME_COOKIE = "hookline_portal_theme"
_THEME_PARAMS = ("primaryColor", "darkMode", "hideNav")


def _csp(request: Request, nonce: str) -> str:
    ancestors = " ".join(request.app.state.settings.portal_frame_ancestors) or "'none'"
    return (
        f"default-src 'self'; {script_sources(nonce)}; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
        f"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


def _framed(request: Request, response: Response, nonce: str) -> Response:
    """The portal's own framing rule instead of the dashboard's ``DENY``."""
    response.headers["Content-Security-Policy"] = _csp(request, nonce)
    if request.app.state.settings.portal_frame_ancestors:
        del response.headers["X-Frame-Options"]
    return response


def _theme(request: Request) -> Theme | str:
    """The theme of this page: the session's remembered one, changed by this address's parameters."""
    remembered = Theme.parse(dict(parse_qsl(request.cookies.get(THEME_COOKIE, ""))))
    base = Theme() if isinstance(remembered, str) else remembered
    given = {k: v for k, v in request.query_params.items() if k in _THEME_PARAMS}
    return Theme.parse({**dict(parse_qsl(base.query())), **given})


def _refusal(request: Request, code: int, title: str, detail: str, theme: Theme | None = None) -> Response:
    nonce = secrets.token_urlsafe(12)
    response = render(
        "portal_message.html",
        code,
        None,
        title=title,
        detail=detail,
        status=code,
        session=None,
        theme=theme or Theme(),
        nonce=nonce,
    )
    return _framed(request, response, nonce)


def _csrf_of(session_secret: str) -> str:
    return hashlib.sha256(b"hookline portal csrf:" + session_secret.encode()).hexdigest()


async def _viewer(request: Request) -> Viewer | Response:
    theme = _theme(request)
    if isinstance(theme, str):
        return _refusal(request, 400, "Unknown theme", f"{theme} has a value the portal cannot use.")
    secret = request.cookies.get(SESSION_COOKIE)
    found = None if not secret else await tokens.portal_session(request.app.state.db, secret)
    if secret is None or found is None:
        return _refusal(
            request,
            401,
            "This portal session has ended",
            "Open the portal again from the page that linked you here: each link works once, for a limited time.",
            theme,
        )
    try:
        app = await applications.get(ctx_of(request), found.app_id, tenant=found.app_id)
    except NotFound:
        return _refusal(request, 404, "Not found", "This application no longer exists.", theme)
    principal = Principal.from_token(found.token)
    rights = frozenset(right for right, call in API_CALLS.items() if _allowed(principal, *call))
    return Viewer(
        base="/portal",
        app=app,
        tenant=app.id,
        csrf_token=_csrf_of(secret),
        rights=rights,
        read_only=found.token.read_only,
        theme=theme,
        nonce=secrets.token_urlsafe(12),
    )


def _allowed(principal: Principal, method: str, route: str) -> bool:
    try:
        principal.authorize(method, route)
    except ApiError:
        return False
    return True


def _finish(request: Request, viewer: Viewer | None, response: Response) -> Response:
    if viewer is None:
        return response
    if any(k in request.query_params for k in _THEME_PARAMS):
        set_cookie(response, request, THEME_COOKIE, viewer.theme.query(), None, path="/portal")
    return _framed(request, response, viewer.nonce)


@router.get("/open")
async def open_page(request: Request) -> Response:
    theme = _theme(request)
    if isinstance(theme, str):
        return _refusal(request, 400, "Unknown theme", f"{theme} has a value the portal cannot use.")
    token = request.cookies.get(OPEN_COOKIE) or new_token()
    nonce = secrets.token_urlsafe(12)
    response = render(
        "portal_open.html",
        200,
        None,
        csrf_token=token,
        session=None,
        theme=theme,
        nonce=nonce,
        theme_query=theme.query(),
    )
    set_cookie(response, request, OPEN_COOKIE, token, max_age=600, path="/portal")
    return _framed(request, response, nonce)


@router.post("/open")
async def open_link(request: Request) -> Response:
    form = await read_form(request)
    if form is None or not tokens_match(request.cookies.get(OPEN_COOKIE), form.get(CSRF_FIELD)):
        return _refusal(request, 403, "This form has expired", "Open the link again from the page that gave it.")
    link = form.get("link", "").strip()
    session = secrets.token_urlsafe(32)
    opened = None if not link else await tokens.open_portal_link(request.app.state.db, link, session)
    if opened is None:
        return _refusal(
            request,
            403,
            "This link cannot be used",
            "A portal link works once, and only until it expires. Ask the page that linked you here for a new one.",
        )
    theme = Theme.parse(dict(parse_qsl(form.get("theme", ""))))
    target = "/portal/" + ("?" + theme.query() if not isinstance(theme, str) else "")
    response = redirect(target)
    expires_at = opened.token.expires_at
    lifetime = None if expires_at is None else max(1, math.floor(expires_at / 1000 - time.time()))
    set_cookie(response, request, SESSION_COOKIE, session, max_age=lifetime, path="/portal")
    clear_cookie(response, request, OPEN_COOKIE, path="/portal")
    return response


@router.get("")
async def root() -> Response:
    return redirect("/portal/")


apppages.add_routes(router, "", _viewer, _finish)
appchanges.add_routes(router, "", _viewer, _finish)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_found(request: Request) -> Response:
    return _refusal(request, 404, "Page not found", "There is no portal page at this address.")
