"""The operator's pages for the receiving side: inbound gateway sources (made, verified, given
destinations that are changed in place, rotated and deleted here, with the requests they took:
accepted, rejected, duplicate), and the inspector's capture URLs with a live view.

Sources are the operator's, as in the ingest API: every page needs a dashboard session (an admin
token's), and each change calls the use-cases that API calls, the way it calls them."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.routes.ingest import DestinationIn, DestinationPatch, IngestSourceCreateIn, patched_fields
from hookline.errors import HooklineError, NotFound
from hookline.receiver.generic import ALGORITHMS, ENCODINGS
from hookline.services import endpoints, ingest, ingest_config, inspect
from hookline.services.context import Context
from hookline.ui import sourceforms
from hookline.ui.forms import NOTHING, BadForm, Form, Refusal, refuse
from hookline.ui.pages import Act, change, posted_form, session_of, signed_out
from hookline.ui.sessions import Session
from hookline.ui.web import ctx_of, error_page, pretty, redirect, render, when

router = APIRouter(prefix="/ui", include_in_schema=False)

_STATUSES = ("accepted", "rejected", "duplicate")
_SHOWN = 100  # newest requests on a page
_DESTINATIONS = 100  # destinations listed on a source's page
# What a NotFound is about, as the pages name it.
_MISSING = {"endpoint": "There is no such destination.", "request": "There is no such request."}


def _text(body: bytes) -> str:
    """A body as text to show (escaped by the template); binary bodies say what they are."""
    try:
        return pretty(body.decode("utf-8"))
    except UnicodeDecodeError:
        return f"({len(body)} bytes of binary data)"


def _source_url(key: str) -> str:
    return f"/ui/sources/{quote(key, safe='')}"


def _form_context() -> dict[str, object]:
    """What the verification fields (``_verification.html``) offer."""
    return {
        "types": sourceforms.types(),
        "verifications": sourceforms.VERIFICATIONS,
        "algorithms": ALGORITHMS,
        "encodings": ENCODINGS,
        "secret_optional": sorted(ingest_config.SECRET_OPTIONAL),
        "waits_for_secret": ingest_config.WAITS_FOR_SECRET,
    }


@router.get("/sources")
async def sources_page(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    return await _sources(request, session)


async def _sources(request: Request, session: Session, refusal: Refusal = NOTHING) -> Response:
    """The sources and the form that creates one (400 with a refused one, as it was typed)."""
    ctx = ctx_of(request)
    found = await ingest.page(ctx, limit=100, iterator=None, descending=True)
    rows = [(s, ingest.ingest_url(ctx, s), ingest.awaiting_secret(ctx, s)) for s in found.rows]
    return render(
        "sources.html",
        400 if refusal.form else 200,
        session=session,
        nav="sources",
        sources=rows,
        when=when,
        refusal=refusal,
        name_of=sourceforms.name_of,
        **_form_context(),
    )


@router.post("/sources")
async def source_create(request: Request) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, typed = posted
    ctx = ctx_of(request)
    try:
        source_type = typed.get("type", "")
        destination = typed.get("destination", "").strip()
        body = IngestSourceCreateIn.model_validate(
            {
                "name": typed.get("name", "").strip(),
                "type": source_type,
                "config": sourceforms.config(source_type, typed),
                "destinations": [{"url": destination}] if destination else None,
            }
        )
        # As the API's create: the destinations made with the source, in one transaction.
        made = [
            ingest.Destination(d.model_dump(exclude={"secret", "headers", "key_type"}), d.secret, d.key_type, d.headers)
            for d in body.destinations or ()
        ]
        source = await ingest.create(ctx, ingest.SourceFields(name=body.name, type=body.type, config=body.config), made)
    except (ValidationError, BadForm, HooklineError) as exc:
        return await _sources(request, session, refuse(sourceforms.NEW_SOURCE, typed, exc))
    return redirect(_source_url(source.id))


@router.get("/sources/{key}")
async def source_page(
    request: Request,
    key: str,
    status: Annotated[str | None, Query()] = None,
    rotated: Annotated[str | None, Query()] = None,
) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    if status not in (None, "", *_STATUSES):
        return error_page(400, "Unknown status", "status must be accepted, rejected or duplicate.", session)
    try:
        return await _source(request, session, key, status=status or "", rotated=rotated is not None)
    except NotFound:
        return error_page(404, "Not found", "There is no such source.", session)


async def _source(
    request: Request, session: Session, key: str, refusal: Refusal = NOTHING, *, status: str = "", rotated: bool = False
) -> Response:
    """A source's page: its URL, verification and destinations with their forms, and what it took."""
    ctx = ctx_of(request)
    source = await ingest.get(ctx, key)
    taken = await ingest.requests(
        ctx, source.id, status=status or None, since=None, until=None, limit=_SHOWN, iterator=None
    )
    # The destinations are the endpoints of the source's own application, read as the API lists them.
    destinations = await endpoints.page(
        ctx, source.app_id, tenant=None, limit=_DESTINATIONS, iterator=None, descending=False
    )
    config = ingest.config_of(ctx, source)
    shown = ingest_config.public(source.type, config)
    awaiting = ingest_config.awaiting_secret(source.type, config)
    return render(
        "source.html",
        400 if refusal.form else 200,
        session=session,
        nav="sources",
        source=source,
        url=ingest.ingest_url(ctx, source),
        provider=sourceforms.name_of(source.type),
        paste_into=sourceforms.paste_into(source.type),
        hint=sourceforms.hint(source.type),
        verified_by=sourceforms.verified_by(source.type, shown, has_secret=bool(config), awaiting=awaiting),
        awaiting=awaiting,
        stored=sourceforms.verification_of(source.type, shown),
        destinations=destinations.rows,
        more_destinations=not destinations.done,
        rotated=rotated,
        received=taken.rows,
        status=status,
        statuses=_STATUSES,
        when=when,
        text=_text,
        refusal=refusal,
        **_form_context(),
    )


async def _change(request: Request, key: str, form: Form, act: Act) -> Response:
    """One change posted on a source's page; refused, the source's page again."""

    async def again(session: Session, refusal: Refusal) -> Response:
        try:
            return await _source(request, session, key, refusal)
        except NotFound:
            return error_page(404, "Not found", "There is no such source.", session)

    return await change(request, form, act, again, lambda exc: _MISSING.get(exc.what, "There is no such source."))


@router.post("/sources/{key}/verification")
async def source_verification(request: Request, key: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        source = await ingest.get(ctx, key)
        # As the API's PATCH with a config: the whole config of the source's type, checked.
        await ingest.patch(ctx, source.id, {"config": sourceforms.new_config(source.type, typed)})
        return f"{_source_url(source.id)}#verification"

    return await _change(request, key, sourceforms.VERIFICATION, act)


@router.post("/sources/{key}/destinations")
async def destination_add(request: Request, key: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        body = DestinationIn.model_validate(sourceforms.destination_fields(typed))
        app_id = await ingest.app_of(ctx, key)
        fields = body.model_dump(exclude={"secret", "headers", "key_type"})
        await endpoints.create(
            ctx, app_id, fields, secret=body.secret, key_type=body.key_type, headers=body.headers, tenant=None
        )
        return f"{_source_url(key)}#destinations"

    return await _change(request, key, sourceforms.NEW_DESTINATION, act)


@router.post("/sources/{key}/destinations/{endpoint_id}/edit")
async def destination_edit(request: Request, key: str, endpoint_id: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        # As the API's PATCH of a destination: the same endpoint, changed in place, so its id,
        # secret, headers and attempts stay.
        body = DestinationPatch.model_validate(sourceforms.destination_changes(typed))
        app_id = await ingest.app_of(ctx, key)
        changed = await endpoints.update(ctx, app_id, endpoint_id, patched_fields(body), tenant=None)
        return f"{_source_url(key)}#destination-{changed.id}"

    return await _change(request, key, sourceforms.edit_destination(endpoint_id), act)


@router.post("/sources/{key}/destinations/{endpoint_id}/remove")
async def destination_remove(request: Request, key: str, endpoint_id: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        await endpoints.delete(ctx, await ingest.app_of(ctx, key), endpoint_id, tenant=None)
        return f"{_source_url(key)}#destinations"

    return await _change(request, key, sourceforms.REMOVE_DESTINATION, act)


@router.post("/sources/{key}/rotate-token")
async def source_rotate(request: Request, key: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        source = await ingest.rotate_token(ctx, key)
        return f"{_source_url(source.id)}?rotated#ingest-url"

    return await _change(request, key, sourceforms.ROTATE_TOKEN, act)


@router.post("/sources/{key}/delete")
async def source_delete(request: Request, key: str) -> Response:
    async def act(ctx: Context, typed: dict[str, str]) -> str:
        await ingest.delete(ctx, key)
        return "/ui/sources"

    return await _change(request, key, sourceforms.DELETE_SOURCE, act)


@router.post("/sources/{key}/requests/{request_id}/replay")
async def source_replay(request: Request, key: str, request_id: str) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _ = posted
    try:
        await ingest.replay(ctx_of(request), key, request_id)
    except NotFound:
        return error_page(404, "Not found", "There is no such request.", session)
    except HooklineError as exc:
        return error_page(409, "Not replayed", str(exc), session, back=_source_url(key))
    return redirect(f"/ui/sources/{key}")


@router.get("/bins")
async def bins_page(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = ctx_of(request)
    found = await inspect.page(ctx, None, limit=100, iterator=None, descending=True)
    rows = [(b, inspect.bin_url(ctx, b)) for b in found.rows]
    return render("bins.html", session=session, nav="bins", bins=rows, when=when)


@router.get("/bins/{bin_id}")
async def bin_page(request: Request, bin_id: str) -> Response:
    """A capture URL and what it caught; the list refreshes itself every two seconds."""
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = ctx_of(request)
    try:
        bin_ = await inspect.get(ctx, None, bin_id)
        caught = await inspect.requests_page(ctx, None, bin_id, limit=_SHOWN, iterator=None, descending=True)
    except NotFound:
        return error_page(404, "Not found", "There is no such capture URL (it may have expired).", session)
    return render(
        "bin.html",
        session=session,
        nav="bins",
        bin=bin_,
        url=inspect.bin_url(ctx, bin_),
        caught=caught.rows,
        when=when,
        text=_text,
    )
