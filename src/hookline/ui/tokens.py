"""The operator's API tokens page: the tokens that reach the API, a form that makes one (shown
once, in the answer to the form), and revoking one; sign-in sessions on a second tab.

The operator is the admin, so a token made here is at most what the operator has: an admin
token, or one application's. It is made as ``POST /api/v1/auth/token`` makes it (origin "api")
with that call's rules, and revoked as ``DELETE /api/v1/auth/token/{id}`` revokes it."""

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.auth import CACHE_SECONDS, forget_tokens
from hookline.api.routes.auth import ApiTokenIn
from hookline.domain.model import Application
from hookline.errors import HooklineError, NotFound
from hookline.services import applications, tokens
from hookline.services.tokens import StoredToken
from hookline.ui.forms import NOTHING, BadForm, Field, Form, Refusal, refuse
from hookline.ui.pages import posted_form, session_of, signed_out
from hookline.ui.sessions import Session
from hookline.ui.web import SESSION_COOKIE, ctx_of, error_page, redirect, render, when

router = APIRouter(prefix="/ui", include_in_schema=False)

NEW_TOKEN = Form(
    "new-token",
    {
        "name": Field("Name", "The name", api=("name",)),
        "access": Field("Access", "The access", api=("appId", "app_id")),
        "expires": Field("Expires", "The lifetime", api=("expiry",)),
    },
    refused="Not created",
)
ADMIN = "admin"
_APP = "app:"  # an access choice naming an application: "app:" and its id
_DAY = 86_400
# The lifetimes offered, in the order shown; the API takes any from 60 s to 10 years.
LIFETIMES: dict[str, tuple[str, int | None]] = {
    "1h": ("1 hour", 3_600),
    "1d": ("1 day", _DAY),
    "7d": ("7 days", 7 * _DAY),
    "30d": ("30 days", 30 * _DAY),
    "90d": ("90 days", 90 * _DAY),
    "1y": ("1 year", 365 * _DAY),
    "never": ("Never", None),
}
DEFAULT_LIFETIME = "90d"
_APPS_OFFERED = 200  # newest applications in the access list; others by the CLI or the API
_LISTED = 500  # newest tokens listed; all of them by `hookline token list` or the API
ORIGINS = {
    "generated": "generated at first start",
    "cli": "made with the CLI",
    "api": "made with the API or this page",
    "dashboard": "dashboard sign-in",
    "portal": "app portal access",
}


@dataclass(frozen=True)
class Created:
    token: StoredToken
    secret: str  # the token itself: in this one answer only


@dataclass(frozen=True)
class Row:
    token: StoredToken
    app: Application | None
    state: str  # active, expired or revoked
    signed_in_with: bool  # the current dashboard session was opened with this token
    current: bool  # the current dashboard session itself


@router.get("/tokens")
async def tokens_page(
    request: Request,
    show: Annotated[str, Query()] = "api",
    revoked: Annotated[str | None, Query()] = None,
) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    if show not in ("api", "sessions"):
        return error_page(400, "Unknown list", "show must be api or sessions.", session)
    return await _page(request, session, show=show, revoked=revoked)


async def _page(
    request: Request,
    session: Session,
    refusal: Refusal = NOTHING,
    *,
    show: str = "api",
    created: Created | None = None,
    revoked: str | None = None,
) -> Response:
    """The tokens (or sessions) and the form that makes one: 400 with a refused one, as it was
    typed; after making one, the token itself, this once."""
    ctx = ctx_of(request)
    found = await applications.page(ctx, tenant=None, limit=_APPS_OFFERED, iterator=None, descending=True)
    apps = [app for app in found.rows if not app.internal]
    by_id = {app.id: app for app in apps}
    origins = tokens.SIGN_IN_ORIGINS if show == "sessions" else tokens.MADE_ORIGINS
    listed = await tokens.list_made(ctx.db, origins, limit=_LISTED)
    # The current session's own token, for the admin token it was opened with.
    mine = await tokens.check(ctx.db, request.cookies.get(SESSION_COOKIE, ""))
    now = int(time.time() * 1000)
    rows = [
        Row(
            token=t,
            app=by_id.get(t.app_id) if t.app_id else None,
            state="revoked" if t.revoked_at is not None else ("active" if t.usable_at(now) else "expired"),
            signed_in_with=mine is not None and mine.opened_with == t.id,
            current=t.id == session.id,
        )
        for t in listed
    ]
    revoked_token = next((t for t in listed if t.id == revoked), None) if revoked else None
    return render(
        "tokens.html",
        400 if refusal.form else 200,
        session=session,
        nav="tokens",
        show=show,
        rows=rows,
        cut=len(listed) == _LISTED,
        apps=apps,
        more_apps=not found.done,
        lifetimes=LIFETIMES,
        default_lifetime=DEFAULT_LIFETIME,
        origins=ORIGINS,
        created=created,
        revoked=revoked_token,
        cache_seconds=int(CACHE_SECONDS),
        when=when,
        refusal=refusal,
    )


@router.post("/tokens")
async def token_create(request: Request) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, typed = posted
    try:
        body = ApiTokenIn.model_validate(
            {"name": typed.get("name", "").strip(), "appId": _app_of(typed), "expiry": _lifetime_of(typed)}
        )
        stored, secret = await tokens.create_token(
            request.app.state.db, app=body.app_id, name=body.name, expires_in=body.expiry, origin="api"
        )
    except NotFound:
        gone = BadForm("access", "That application no longer exists: choose another.")
        return await _page(request, session, refuse(NEW_TOKEN, typed, gone))
    except (ValidationError, BadForm, HooklineError) as exc:
        return await _page(request, session, refuse(NEW_TOKEN, typed, exc))
    # Rendered in this answer, never redirected to: the token must not sit in a URL or history.
    return await _page(request, session, created=Created(stored, secret))


def _app_of(typed: dict[str, str]) -> str | None:
    """The application the access choice names; None for an admin token."""
    access = typed.get("access", "")
    if access == ADMIN:
        return None
    if access.startswith(_APP) and len(access) > len(_APP):
        return access.removeprefix(_APP)
    raise BadForm("access", "Choose what the token may reach: everything (admin) or one application.")


def _lifetime_of(typed: dict[str, str]) -> int | None:
    choice = LIFETIMES.get(typed.get("expires", ""))
    if choice is None:
        raise BadForm("expires", "Choose when the token expires.")
    return choice[1]


@router.post("/tokens/{token_id}/revoke")
async def token_revoke(request: Request, token_id: str) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _ = posted
    try:
        token = await tokens.revoke_token(request.app.state.db, token_id)
    except NotFound:
        return error_page(404, "Not found", "There is no such token.", session, back="/ui/tokens")
    forget_tokens(request)  # this process refuses it at once; the others within CACHE_SECONDS
    show = "sessions" if token.origin in tokens.SIGN_IN_ORIGINS else "api"
    return redirect(f"/ui/tokens?show={show}&revoked={token.id}")
