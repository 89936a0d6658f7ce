"""What every dashboard response shares: templates, security headers, cookies, forms, CSRF,
the use-case context of a request, and how times and bodies are shown (``when``, ``pretty``)."""

import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hookline._version import __version__
from hookline.domain import json_text
from hookline.domain.json_text import has_lone_surrogate, printable
from hookline.services.context import Context
from hookline.ui.sessions import Session

HERE = Path(__file__).parent
SESSION_COOKIE = "hookline_ui"
LOGIN_COOKIE = "hookline_ui_login"  # the CSRF token of the sign-in form, before any session exists
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_FORM_TYPE = "application/x-www-form-urlencoded"

# Styles and data only from this origin; scripts only those base.html loads, each with the
# page's nonce: not 'self', because capture URLs (/i/...) answer on this origin with content a
# tenant chose, a script too. No inline script or eval (Alpine's CSP build), and no framing of
# the dashboard by any page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["version"] = __version__


def duration(ms: int) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, int(ms) // 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"


templates.filters["duration"] = duration


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty(raw: bytes | str | None) -> str:
    """JSON shown indented (escaped by the template like any text); anything else as it is."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        # json_text.loads: exact for integers of any length (Python's own limit is 4,300 digits).
        shown = json.dumps(json_text.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return text
    # A received body may escape half a surrogate pair (\ud800), which the page cannot encode:
    # then it is shown escaped, as it came.
    return printable(shown) if has_lone_surrogate(shown) else shown


def ctx_of(request: Request) -> Context:
    state = request.app.state
    return Context(db=state.db, settings=state.settings, engine=state.engine)


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def script_sources(nonce: str) -> str:
    """The ``script-src`` of a page whose scripts carry ``nonce``."""
    return f"script-src 'nonce-{nonce}'"


def render(template: str, code: int = 200, headers: dict[str, str] | None = None, /, **context: Any) -> Response:
    """``context["nonce"]`` (or its viewer's): the page's nonce, which the portal's own policy
    names too (portal.py); a new one when none is given."""
    viewer = context.get("viewer")
    nonce = context.get("nonce") or getattr(viewer, "nonce", "") or secrets.token_urlsafe(16)
    html = templates.get_template(template).render(script_nonce=nonce, **context)
    response = secured(HTMLResponse(html, status_code=code, headers=headers))
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace("script-src 'none'", script_sources(nonce))
    return response


def error_page(
    status: int,
    title: str,
    detail: str,
    session: Session | None = None,
    headers: dict[str, str] | None = None,
    back: str | None = None,
) -> Response:
    """``back``: a page to go back to, for a "Back to the form" link."""
    return render("error.html", status, headers, title=title, detail=detail, status=status, session=session, back=back)


def redirect(url: str) -> Response:
    # 303: after a POST the browser follows with a GET.
    return secured(RedirectResponse(url, status_code=303))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None, path: str = "/ui"
) -> None:
    # The portal may sit in another site's iframe: its cookies must cross sites, which
    # browsers allow only for Secure cookies, so only under https.
    samesite: Literal["lax", "none"] = "none" if path == "/portal" and is_https(request) else "lax"
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite=samesite, secure=is_https(request)
    )


def clear_cookie(response: Response, request: Request, name: str, path: str = "/ui") -> None:
    samesite: Literal["lax", "none"] = "none" if path == "/portal" and is_https(request) else "lax"
    response.delete_cookie(name, path=path, httponly=True, samesite=samesite, secure=is_https(request))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded form a page posted; None when the body is something else."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if not body:
        return {}
    if content_type != _FORM_TYPE:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    # Bytes: compare_digest raises TypeError for a str that is not ASCII, which a form may send.
    return bool(expected and given) and hmac.compare_digest(
        str(expected).encode("utf-8", "surrogatepass"), str(given).encode("utf-8", "surrogatepass")
    )


def csrf_given(request: Request, form: dict[str, str] | None) -> str | None:
    """The CSRF token a request carries: the hidden form field, or HTMX's header."""
    return (form or {}).get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)


class Static(StaticFiles):
    """The vendored assets and our own CSS and JS, with the same no-sniff rule as the pages."""

    def __init__(self) -> None:
        super().__init__(directory=HERE / "static")

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response
