"""The operator's application pages: the list of applications, the event-type catalogue (made,
edited, archived and restored here, through the use-cases the API's event-type routes call),
and every application's own pages (``apppages``) and changes (``appchanges``) under /ui/apps/{app}."""

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.schemas import ApplicationIn, EventTypeIn, EventTypePatch
from hookline.errors import Conflict, HooklineError, NotFound
from hookline.services import applications, event_types, publishing
from hookline.services.context import Context
from hookline.ui import appchanges, apppages, eventtypeforms
from hookline.ui.forms import NOTHING, BadForm, Field, Form, Refusal, refuse
from hookline.ui.pages import Act, change, posted_form, session_of, signed_out
from hookline.ui.scope import Viewer
from hookline.ui.sessions import Session
from hookline.ui.web import ctx_of, error_page, pretty, redirect, render, when

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
        app = await applications.get(ctx_of(request), key, tenant=None)
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
    found = await applications.page(ctx_of(request), tenant=None, limit=100, iterator=None, descending=True)
    apps = [app for app in found.rows if not app.internal]
    return render(
        "apps.html",
        400 if refusal.form else 200,
        session=session,
        nav="apps",
        apps=apps,
        more=not found.done,
        when=when,
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
        app, _ = await applications.create(ctx_of(request), body.model_dump())
    except (ValidationError, HooklineError) as exc:
        return await _apps(request, session, refuse(NEW_APPLICATION, typed, exc))
    return redirect(f"/ui/apps/{app.id}/")


@router.get("/event-types")
async def catalogue(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    return await _catalogue(request, session, show_archived="archived" in request.query_params)


async def _catalogue(
    request: Request, session: Session, refusal: Refusal = NOTHING, *, show_archived: bool = False
) -> Response:
    """The catalogue with its forms (400 with a refused one, as it was typed); ``show_archived``:
    the archived event types too, each with its restore button."""
    ctx = ctx_of(request)
    types = await event_types.page(ctx, include_archived=show_archived, limit=250, iterator=None, descending=False)
    examples = {t.name: publishing.example_payload(t.name, t.schemas) for t in types.rows}
    return render(
        "event_types.html",
        400 if refusal.form else 200,
        session=session,
        nav="event-types",
        event_types=types.rows,
        examples=examples,
        pretty=pretty,
        refusal=refusal,
        show_archived=show_archived,
        forms=eventtypeforms,
    )


def _type_url(name: str, *, archived: bool = False) -> str:
    return "/ui/event-types" + ("?archived" if archived else "") + f"#event-type-{quote(name, safe='')}"


def _archived_shown(typed: Mapping[str, str]) -> bool:
    """Whether the form was posted from the catalogue with its archived event types shown, to
    which the answer goes back."""
    return typed.get("archived_shown") == "on"


@router.post("/event-types")
async def event_type_create(request: Request) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, typed = posted
    try:
        body = EventTypeIn.model_validate(eventtypeforms.new_fields(typed))
        # As the API's create: Svix's featureFlags and groupName are the API's, not the form's.
        created = await event_types.create(ctx_of(request), body.model_dump(exclude={"feature_flags", "group_name"}))
    except (ValidationError, BadForm, HooklineError) as exc:
        refusal = refuse(eventtypeforms.NEW_EVENT_TYPE, typed, eventtypeforms.explained(exc))
        return await _catalogue(request, session, refusal, show_archived=_archived_shown(typed))
    return redirect(_type_url(created.name, archived=_archived_shown(typed)))


async def _change(request: Request, form: Form, act: Act) -> Response:
    """One change of an event type; refused, the catalogue again."""

    async def again(session: Session, refusal: Refusal) -> Response:
        return await _catalogue(request, session, refusal, show_archived=_archived_shown(refusal.values))

    return await change(request, form, act, again, lambda _: "There is no such event type.", back="/ui/event-types")


@router.post("/event-types/{name}/edit")
async def event_type_edit(request: Request, name: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        current = await event_types.get(ctx, name)
        try:
            body = EventTypePatch.model_validate(eventtypeforms.edit_fields(typed, current))
            # As the API's PATCH: only what the form sets; and only over the version the page showed.
            fields = body.model_dump(exclude_unset=True, exclude={"feature_flags", "group_name"})
            await event_types.patch(ctx, name, fields, unchanged_since=eventtypeforms.read_at(typed))
        except Conflict:
            raise BadForm(None, eventtypeforms.CHANGED_SINCE) from None
        except HooklineError as exc:
            raise eventtypeforms.explained(exc, eventtypeforms.box_version(typed, current)) from None
        return _type_url(name, archived=_archived_shown(typed))

    return await _change(request, eventtypeforms.edit_form(name), act)


@router.post("/event-types/{name}/archive")
async def event_type_archive(request: Request, name: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        # As the API's DELETE without expunge: kept, and left out of the catalogue and its choices.
        await event_types.delete(ctx, name, expunge=False)
        return _type_url(name, archived=True) if _archived_shown(typed) else "/ui/event-types"

    return await _change(request, eventtypeforms.archive_form(name), act)


@router.post("/event-types/{name}/restore")
async def event_type_restore(request: Request, name: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        await event_types.patch(ctx, name, {"archived": False})
        return _type_url(name, archived=True)

    return await _change(request, eventtypeforms.restore_form(name), act)


@router.get("/apps/{app_key}")
async def app_root(app_key: str) -> Response:
    return redirect(f"/ui/apps/{quote(app_key, safe='')}/")


apppages.add_routes(router, "/apps/{app_key}", _viewer)
appchanges.add_routes(router, "/apps/{app_key}", _viewer)
