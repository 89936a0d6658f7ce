"""One application's pages, for the operator (/ui/apps/{app}) and for its tenant (/portal):
its endpoints, an endpoint, its messages, a message, its attempts, the event types and a job,
with the filters and cursors of their lists. The changes posted from these pages:
``appchanges``; how both answer their viewer: ``appview``.

Both routers register the same handlers; a ``Viewer`` says whose eyes they are and what they
may do. Every read goes through the use-case layer (``hookline.services``) with ``tenant`` set
for the portal, so an id outside the tenant's application is a 404 there, exactly as in the
API. A refused form or filter comes back as it was typed, with what to change (``forms``; the
forms themselves: ``appforms``).
"""

import contextlib
import re
import time
from collections.abc import Collection
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hookline.domain.model import Attempt, AttemptFilter, DeliveryStatus, MessageFilter
from hookline.errors import NotFound
from hookline.services import endpoints, event_types, listings, messages, publishing, recovery, stats
from hookline.services.context import Context
from hookline.ui import appforms
from hookline.ui.appview import Finish, Resolve, page, refused, runner
from hookline.ui.forms import NOTHING, BadForm, Field, Form, Refusal, refuse
from hookline.ui.scope import Viewer
from hookline.ui.web import ctx_of

_LIST = 50
# A page's cursor: an endpoint id or uid, as the API's iterator takes it (docs: api/deps.py).
_AFTER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.\-]{0,63}")
_MSG_ID = re.compile(r"msg_[0-9A-Za-z]{22}")  # a message page's cursor (domain/ids.py)
_ATTEMPT_ID = re.compile(r"atmpt_[0-9A-Za-z]{22}")  # an attempts page's cursor
_HOUR_MS = 3_600_000
_SCAN = 5000  # messages a payload search reads at most
# An attempt either got a 2xx or did not: its status is one of these two.
ATTEMPT_STATUSES = {"succeeded": DeliveryStatus.SUCCESS, "failed": DeliveryStatus.FAIL}
ATTEMPT_FILTERS = Form(
    "filters",
    {
        "endpoint": Field("Endpoint", "The endpoint"),
        "since": Field("From (UTC)", "From"),
        "until": Field("To (UTC)", "To"),
    },
    "Not filtered",
)


async def home(request: Request, viewer: Viewer, refusal: Refusal = NOTHING) -> Response:
    ctx = ctx_of(request)
    # ``after``: the last endpoint of the previous page (an application may have hundreds).
    after = request.query_params.get("after", "").strip() or None
    if after is not None and not _AFTER.fullmatch(after):
        return refused(viewer, 400, "No such page", "The link's 'after' value is not an endpoint id.")
    found = await endpoints.page(
        ctx, viewer.app.id, tenant=viewer.tenant, limit=_LIST, iterator=after, descending=False
    )
    recent = await messages.page(ctx, viewer.app.id, MessageFilter(), tenant=viewer.tenant, limit=5, iterator=None)
    return page(
        "app.html",
        viewer,
        nav="endpoints",
        endpoints=found.rows,
        recent=recent.rows,
        later=found.iterator if not found.done else None,
        paged=after is not None,
        refusal=refusal,
    )


async def endpoint_page(request: Request, viewer: Viewer, endpoint_id: str, refusal: Refusal = NOTHING) -> Response:
    ctx = ctx_of(request)
    endpoint = await endpoints.get(ctx, viewer.app.id, endpoint_id, tenant=viewer.tenant)
    until = int(time.time() * 1000)
    since = (until - 23 * _HOUR_MS) // _HOUR_MS * _HOUR_MS
    series = await stats.attempt_series(
        ctx, viewer.app.id, endpoint.id, tenant=viewer.tenant, since_ms=since, until_ms=until, bucket_ms=_HOUR_MS
    )
    chart = _hourly_chart(series, since, until)
    attempts = await listings.attempts_of_endpoint(
        ctx, viewer.app.id, endpoint.id, AttemptFilter(), tenant=viewer.tenant, limit=20, iterator=None
    )
    secret = None
    if request.query_params.get("secret") == "show" and viewer.can_view_secret():
        secret = await endpoints.secret(ctx, viewer.app.id, endpoint.id, tenant=viewer.tenant)
    types = await event_types.page(ctx, include_archived=False, limit=250, iterator=None, descending=False)
    visible, sensitive = endpoints.split_sensitive(endpoint.headers)
    return page(
        "endpoint.html",
        viewer,
        nav="endpoints",
        endpoint=endpoint,
        warnings=await endpoints.warnings(ctx, endpoint),
        chart=chart,
        has_chart=bool(series),
        attempts=attempts.rows,
        secret=secret,
        event_types=types.rows,
        headers_text="\n".join(f"{k}: {v}" for k, v in visible.items()),
        sensitive=sensitive,
        now_ms=until,
        refusal=refusal,
    )


def _hourly_chart(series: list[stats.Bucket], since: int, until: int) -> dict[str, list[Any]]:
    """Every hour of the window, empty ones as zero (the series lists only hours with attempts)."""
    found = {bucket.start_ms: bucket for bucket in series}
    chart: dict[str, list[Any]] = {"t": [], "ok": [], "fail": [], "p95": []}
    for start in range(since, until, _HOUR_MS):
        bucket = found.get(start)
        chart["t"].append(start // 1000)
        chart["ok"].append(bucket.success if bucket else 0)
        chart["fail"].append(bucket.fail if bucket else 0)
        chart["p95"].append(bucket.p95_ms if bucket else None)
    return chart


async def messages_page(request: Request, viewer: Viewer) -> Response:
    ctx = ctx_of(request)
    q = request.query_params
    filters = {k: q.get(k, "") for k in ("event_type", "channel", "since", "until", "event_id", "status", "search")}
    if filters["status"] and filters["status"] not in {"0", "1", "2", "3"}:
        return refused(viewer, 400, "Unknown status", "status must be one of: succeeded, pending, failed, sending.")
    status = DeliveryStatus(int(filters["status"])) if filters["status"] else None
    # ``after``: the oldest message of the page before (older ones follow); ``before``: the
    # newest message of the page after (newer ones follow).
    after, before = q.get("after", "").strip() or None, q.get("before", "").strip() or None
    for name, value in (("after", after), ("before", before)):
        if value is not None and not _MSG_ID.fullmatch(value):
            return refused(viewer, 400, "No such page", f"The link's '{name}' value is not a message id.")
    if after and before:
        return refused(viewer, 400, "No such page", "A link names 'after' or 'before', not both.")
    if (after or before) and (filters["search"].strip() or filters["event_id"].strip()):
        return refused(viewer, 400, "No such page", "Older and newer pages list messages without a payload search.")
    refusal = NOTHING
    try:
        since, until = appforms.ms(filters["since"], "since", "From"), appforms.ms(filters["until"], "until", "To")
    except BadForm as exc:  # the page again, the filters as typed and nothing listed
        refusal, since, until = refuse(appforms.FILTERS, filters, exc), None, None
    rows: list[Any] = []
    older: str | None = None
    scanned = False  # a payload search that stopped before the oldest message
    if refusal.form:
        pass
    elif filters["event_id"]:
        try:
            rows = [await messages.get(ctx, viewer.app.id, filters["event_id"].strip(), tenant=viewer.tenant)]
        except NotFound:
            rows = []
    else:
        f = MessageFilter(
            event_types=tuple(appforms.csv(filters["event_type"]) or ()) or None,
            channel=filters["channel"].strip() or None,
            after_ms=since,
            before_ms=until,
        )
        if filters["search"].strip():
            hits = await messages.search(
                ctx,
                viewer.app.id,
                f,
                filters["search"].strip(),
                tenant=viewer.tenant,
                limit=_LIST,
                scan=_SCAN,
                status=status,
            )
            rows, scanned = hits.rows, not hits.complete
        else:
            iterator = after or (f"-{before}" if before else None)
            found = await messages.page(
                ctx, viewer.app.id, f, tenant=viewer.tenant, limit=_LIST, iterator=iterator, status=status
            )
            rows = list(found.rows)
            # Walking back to newer ones, the messages older than the page are there still.
            older = found.iterator if rows and (before or not found.done) else None
    statuses: dict[str, list[DeliveryStatus]] = {}
    for message in rows:
        dests = await listings.destinations(
            ctx, viewer.app.id, message.id, tenant=viewer.tenant, limit=50, iterator=None
        )
        statuses[message.id] = [d.state.status for d in dests.rows]
    if status is not None and filters["event_id"]:
        rows = [m for m in rows if status in statuses[m.id]]
    # A walk back that filled the page may have newer ones beyond it; one that did not reached the newest.
    newer = rows[0].id if rows and (after or (before and len(rows) == _LIST)) else None
    kept = {k: v for k, v in filters.items() if v}
    types = await event_types.page(ctx, include_archived=False, limit=250, iterator=None, descending=False)
    return page(
        "messages.html",
        viewer,
        nav="messages",
        messages=rows,
        statuses=statuses,
        filters=filters,
        filtered=any(filters.values()),
        paged=bool(after or before),
        older=None if older is None else urlencode({**kept, "after": older}),
        newer=None if newer is None else urlencode({**kept, "before": newer}),
        first=urlencode(kept),
        scanned=scanned,
        scan=_SCAN,
        event_types=types.rows,
        refusal=refusal,
    )


async def message_page(request: Request, viewer: Viewer, msg_id: str, refusal: Refusal = NOTHING) -> Response:
    ctx = ctx_of(request)
    message = await messages.get(ctx, viewer.app.id, msg_id, tenant=viewer.tenant)
    dests = await listings.destinations(ctx, viewer.app.id, message.id, tenant=viewer.tenant, limit=50, iterator=None)
    found = await listings.attempts_of_message(
        ctx,
        viewer.app.id,
        message.id,
        AttemptFilter(),
        endpoint_key=None,
        tenant=viewer.tenant,
        limit=250,
        iterator=None,
    )
    by_endpoint: dict[str, list[Attempt]] = {}
    for attempt in sorted(found.rows, key=lambda a: a.id):
        by_endpoint.setdefault(attempt.endpoint_id, []).append(attempt)
    return page(
        "message.html",
        viewer,
        nav="messages",
        message=message,
        destinations=dests.rows,
        attempts=by_endpoint,
        refusal=refusal,
    )


async def attempts_page(request: Request, viewer: Viewer, refusal: Refusal = NOTHING) -> Response:
    """Every endpoint's attempts, newest first; a refused retry (``refusal``) comes back here."""
    ctx = ctx_of(request)
    q = request.query_params
    filters = {k: q.get(k, "") for k in ("status", "endpoint", "event_type", "since", "until")}
    if filters["status"] and filters["status"] not in ATTEMPT_STATUSES:
        return refused(viewer, 400, "Unknown status", "status must be succeeded or failed, or empty for both.")
    # As on the messages page: ``after`` pages to older attempts, ``before`` back to newer ones.
    after, before = q.get("after", "").strip() or None, q.get("before", "").strip() or None
    for name, value in (("after", after), ("before", before)):
        if value is not None and not _ATTEMPT_ID.fullmatch(value):
            return refused(viewer, 400, "No such page", f"The link's '{name}' value is not an attempt id.")
    if after and before:
        return refused(viewer, 400, "No such page", "A link names 'after' or 'before', not both.")
    listed = await endpoints.page(
        ctx, viewer.app.id, tenant=viewer.tenant, limit=listings.MAX_LIMIT, iterator=None, descending=False
    )
    rows: list[Attempt] = []
    older: str | None = None
    try:
        since, until = appforms.ms(filters["since"], "since", "From"), appforms.ms(filters["until"], "until", "To")
        f = AttemptFilter(
            status=ATTEMPT_STATUSES.get(filters["status"]),
            messages=MessageFilter(
                event_types=tuple(appforms.csv(filters["event_type"]) or ()) or None, after_ms=since, before_ms=until
            ),
        )
        try:
            found = await listings.attempts_of_app(
                ctx,
                viewer.app.id,
                f,
                endpoint_key=filters["endpoint"].strip() or None,
                tenant=viewer.tenant,
                limit=_LIST,
                iterator=after or (f"-{before}" if before else None),
            )
        except NotFound as exc:  # the endpoint filter: of another application, or deleted since
            raise BadForm(
                "endpoint", "There is no such endpoint in this application: choose one from the list."
            ) from exc
        rows = list(found.rows)
        older = found.iterator if rows and (before or not found.done) else None
    except BadForm as exc:  # the page again, the filters as typed and nothing listed
        refusal = refusal if refusal.form else refuse(ATTEMPT_FILTERS, filters, exc)
    newer = rows[0].id if rows and (after or (before and len(rows) == _LIST)) else None
    kept = {k: v for k, v in filters.items() if v}
    shown = {e.id for e in listed.rows}
    types = await event_types.page(ctx, include_archived=False, limit=250, iterator=None, descending=False)
    return page(
        "attempts.html",
        viewer,
        nav="attempts",
        attempts=rows,
        messages=await listings.messages_of(ctx, viewer.app.id, rows, tenant=viewer.tenant),
        endpoints=listed.rows,
        live=shown | await _still_there(ctx, viewer, {a.endpoint_id for a in rows} - shown),
        reason=reason,
        filters=filters,
        filtered=any(filters.values()),
        paged=bool(after or before),
        older=None if older is None else urlencode({**kept, "after": older}),
        newer=None if newer is None else urlencode({**kept, "before": newer}),
        first=urlencode(kept),
        event_types=types.rows,
        refusal=refusal,
    )


async def _still_there(ctx: Context, viewer: Viewer, endpoint_ids: Collection[str]) -> set[str]:
    """Those of ``endpoint_ids`` that exist: a deleted endpoint's attempts stay listed, unlinked."""
    found = set()
    for endpoint_id in endpoint_ids:  # beyond the first page of endpoints: rare, and at most a page's worth
        with contextlib.suppress(NotFound):
            found.add((await endpoints.get(ctx, viewer.app.id, endpoint_id, tenant=viewer.tenant)).id)
    return found


def reason(code: int) -> str:
    """An HTTP status code's reason phrase ("Internal Server Error"); empty for one without."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


async def event_types_page(request: Request, viewer: Viewer) -> Response:
    ctx = ctx_of(request)
    types = await event_types.page(ctx, include_archived=False, limit=250, iterator=None, descending=False)
    examples = {t.name: publishing.example_payload(t.name, t.schemas) for t in types.rows}
    return page("event_types.html", viewer, nav="event-types", event_types=types.rows, examples=examples)


async def job_page(request: Request, viewer: Viewer, task_id: str) -> Response:
    task = await recovery.get_task(ctx_of(request).db, task_id, viewer.app.id)
    percent = 100 if task.total == 0 else min(100, task.done * 100 // task.total)
    return page("job.html", viewer, nav="endpoints", task=task, percent=percent)


def add_routes(router: APIRouter, prefix: str, resolve: Resolve, finish: Finish | None = None) -> None:
    """Register the application pages under ``prefix`` of ``router``; ``finish`` may add
    headers to every page it answers for a viewer (``appchanges.add_routes`` registers the
    changes posted from them)."""
    run = runner(resolve, finish)

    @router.get(prefix + "/")
    async def app_home(request: Request) -> Response:
        return await run(request, lambda v: home(request, v))

    @router.get(prefix + "/endpoints/{endpoint_id}")
    async def endpoint_view(request: Request, endpoint_id: str) -> Response:
        return await run(request, lambda v: endpoint_page(request, v, endpoint_id))

    @router.get(prefix + "/messages")
    async def messages_view(request: Request) -> Response:
        return await run(request, lambda v: messages_page(request, v))

    @router.get(prefix + "/messages/{msg_id}")
    async def message_view(request: Request, msg_id: str) -> Response:
        return await run(request, lambda v: message_page(request, v, msg_id))

    @router.get(prefix + "/attempts")
    async def attempts_view(request: Request) -> Response:
        return await run(request, lambda v: attempts_page(request, v))

    @router.get(prefix + "/event-types")
    async def event_types_view(request: Request) -> Response:
        return await run(request, lambda v: event_types_page(request, v))

    @router.get(prefix + "/jobs/{task_id}")
    async def job_view(request: Request, task_id: str) -> Response:
        return await run(request, lambda v: job_page(request, v, task_id))
