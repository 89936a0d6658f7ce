"""The operator's application pages: the list of applications, the event-type catalogue,
and every application's own pages (``apppages``) under /ui/apps/{app}."""

from urllib.parse import quote

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.schemas import ApplicationIn
from hookline.errors import HooklineError, NotFound
from hookline.services import applications, event_types, publishing
from hookline.ui import apppages
from hookline.ui.forms import NOTHING, Field, Form, Refusal, refuse
from hookline.ui.pages import posted_form, session_of, signed_out
from hookline.ui.scope import Viewer
from hookline.ui.sessions import Session
from hookline.ui.web import error_page, redirect, render

router = APIRouter(prefix="/ui", include_in_schema=False)
NEW_APPLICATION = Form(
    "new-application",
    {
        "name": Field("Name", "The name"),
        "uid": Field(
            "Your own id for it",
            "Your own id",
            taken="Another application already has this id: choose another, or leave it empty.",
        ),
    },
)


async def _viewer(request: Request) -> Viewer | Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    key = str(request.path_params["app_key"])
    try:
        app = await applications.get(apppages.ctx_of(request), key, tenant=None)
    except NotFound:
        return error_page(404, "Not found", "There is no such application.", session)
    return Viewer(base=f"/ui/apps/{app.id}", app=app, tenant=None, csrf_token=session.csrf_token, session=session)


@router.get("/apps")
async def apps_page(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    return await _apps(request, session)


async def _apps(request: Request, session: Session, refusal: Refusal = NOTHING) -> Response:
    """The applications and the form that creates one (400 with a refused one, as it was typed)."""
    found = await applications.page(apppages.ctx_of(request), tenant=None, limit=100, iterator=None, descending=True)
    apps = [app for app in found.rows if not app.internal]
    return render(
        "apps.html",
        400 if refusal.form else 200,
        session=session,
        nav="apps",
        apps=apps,
        more=not found.done,
        when=apppages.when,
        refusal=refusal,
    )


@router.post("/apps")
async def app_create(request: Request) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, typed = posted
    try:
        body = ApplicationIn.model_validate({"name": typed.get("name", "").strip(), "uid": typed.get("uid") or None})
        app, _ = await applications.create(apppages.ctx_of(request), body.model_dump())
    except (ValidationError, HooklineError) as exc:
        return await _apps(request, session, refuse(NEW_APPLICATION, typed, exc))
    return redirect(f"/ui/apps/{app.id}/")


@router.get("/event-types")
async def catalogue(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = apppages.ctx_of(request)
    types = await event_types.page(ctx, include_archived=False, limit=250, iterator=None, descending=False)
    examples = {t.name: publishing.example_payload(t.name, t.schemas) for t in types.rows}
    return render(
        "event_types.html",
        session=session,
        nav="event-types",
        event_types=types.rows,
        examples=examples,
        pretty=apppages.pretty,
    )


@router.get("/apps/{app_key}")
async def app_root(app_key: str) -> Response:
    return redirect(f"/ui/apps/{quote(app_key, safe='')}/")


apppages.add_routes(router, "/apps/{app_key}", _viewer)
