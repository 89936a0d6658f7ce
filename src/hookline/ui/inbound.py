"""The operator's pages for the receiving side: inbound gateway sources with the requests they
took (accepted, rejected, duplicate), and the inspector's capture URLs with a live view."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from hookline.errors import HooklineError, NotFound
from hookline.services import ingest, inspect
from hookline.ui import apppages
from hookline.ui.pages import csrf_refused, session_of, signed_out
from hookline.ui.web import csrf_given, error_page, read_form, redirect, render, tokens_match

router = APIRouter(prefix="/ui", include_in_schema=False)

_STATUSES = ("accepted", "rejected", "duplicate")
_SHOWN = 100  # newest requests on a page


def _text(body: bytes) -> str:
    """A body as text to show (escaped by the template); binary bodies say what they are."""
    try:
        return apppages.pretty(body.decode("utf-8"))
    except UnicodeDecodeError:
        return f"({len(body)} bytes of binary data)"


@router.get("/sources")
async def sources_page(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = apppages.ctx_of(request)
    found = await ingest.page(ctx, limit=100, iterator=None, descending=True)
    rows = [(s, ingest.ingest_url(ctx, s)) for s in found.rows]
    return render("sources.html", session=session, nav="sources", sources=rows, when=apppages.when)


@router.get("/sources/{key}")
async def source_page(request: Request, key: str, status: Annotated[str | None, Query()] = None) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    if status not in (None, "", *_STATUSES):
        return error_page(400, "Unknown status", "status must be accepted, rejected or duplicate.", session)
    ctx = apppages.ctx_of(request)
    try:
        source = await ingest.get(ctx, key)
        taken = await ingest.requests(
            ctx, source.id, status=status or None, since=None, until=None, limit=_SHOWN, iterator=None
        )
    except NotFound:
        return error_page(404, "Not found", "There is no such source.", session)
    return render(
        "source.html",
        session=session,
        nav="sources",
        source=source,
        url=ingest.ingest_url(ctx, source),
        received=taken.rows,
        status=status or "",
        statuses=_STATUSES,
        when=apppages.when,
        text=_text,
    )


@router.post("/sources/{key}/requests/{request_id}/replay")
async def source_replay(request: Request, key: str, request_id: str) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    form = await read_form(request)
    if form is None or not tokens_match(session.csrf_token, csrf_given(request, form)):
        return csrf_refused(session)
    try:
        await ingest.replay(apppages.ctx_of(request), key, request_id)
    except NotFound:
        return error_page(404, "Not found", "There is no such request.", session)
    except HooklineError as exc:
        return error_page(409, "Not replayed", str(exc), session, back=f"/ui/sources/{quote(key, safe='')}")
    return redirect(f"/ui/sources/{key}")


@router.get("/bins")
async def bins_page(request: Request) -> Response:
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = apppages.ctx_of(request)
    found = await inspect.page(ctx, None, limit=100, iterator=None, descending=True)
    rows = [(b, inspect.bin_url(ctx, b)) for b in found.rows]
    return render("bins.html", session=session, nav="bins", bins=rows, when=apppages.when)


@router.get("/bins/{bin_id}")
async def bin_page(request: Request, bin_id: str) -> Response:
    """A capture URL and what it caught; the list refreshes itself every two seconds."""
    session = await session_of(request)
    if session is None:
        return signed_out(request)
    ctx = apppages.ctx_of(request)
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
        when=apppages.when,
        text=_text,
    )
