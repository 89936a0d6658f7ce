"""The changes posted from one application's pages, for the operator (/ui/apps/{app}) and for
its tenant (/portal): an endpoint made, edited, disabled, deleted, its headers replaced, its
secret rotated, a test event sent, a recovery or replay started; a message sent again; failed
deliveries retried.

Each change checks the form's CSRF token, then the viewer's right, then runs the use-case
(``hookline.services``, with ``tenant`` set for the portal) and redirects to the page it
returns. A refused form comes back on its own page (``apppages``) as it was typed, with what
to change (``forms``; the forms themselves: ``appforms``).
"""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookline.api.schemas import EndpointHeadersIn, EndpointIn, EndpointPatch
from hookline.domain.model import DeliveryStatus
from hookline.errors import HooklineError, NotFound
from hookline.services import endpoints, publishing, recovery
from hookline.services.context import Context
from hookline.ui import appforms
from hookline.ui.apppages import attempts_page, endpoint_page, home, message_page
from hookline.ui.appview import Finish, Resolve, refused, runner
from hookline.ui.forms import BadForm, Field, Form, Refusal, refuse
from hookline.ui.scope import CREATE_ATTEMPTS, MANAGE_ENDPOINT, MANAGE_SECRET, Viewer
from hookline.ui.web import csrf_given, ctx_of, read_form, redirect, tokens_match

Again = Callable[[Refusal], Awaitable[Response]]  # the form's page again, showing a refusal
Change = Callable[[Context, dict[str, str]], Awaitable[str]]
Act = Callable[[Viewer, Context, dict[str, str]], Awaitable[str]]  # a change, for the viewer
RETRY_FAILED = Form(
    "retry-failed",
    {"since": Field("Messages sent from (UTC)", "From"), "until": Field("Sent until (UTC)", "Until")},
    "Not started",
)


async def change(
    request: Request, viewer: Viewer, right: str | None, form: Form, act: Change, again: Again
) -> Response:
    """Run one change posted by ``form``: the CSRF token first, then the right, then the use-case;
    the answer is a redirect (303) to the page the change returns, or, when the schemas or the
    use-case refuse it, the form's page ``again`` (400) with the values as typed and what to change."""
    typed = await read_form(request)
    if typed is None or not tokens_match(viewer.csrf_token, csrf_given(request, typed)):
        return refused(
            viewer,
            403,
            "This form has expired",
            "The request did not carry this page's security token, so it was refused. Reload the page and try again.",
        )
    if right is not None and not viewer.can(right):
        return refused(viewer, 403, "Not allowed", "This access link does not allow that change.")
    try:
        return redirect(await act(ctx_of(request), typed))
    except NotFound:
        raise
    except (ValidationError, BadForm, HooklineError) as exc:
        return await again(refuse(form, typed, exc))


def _wake_jobs(request: Request) -> None:
    """The job row is committed: this process's job runner starts it now, not at its next poll
    (others hear a NOTIFY on PostgreSQL)."""
    jobs = request.app.state.jobs
    if jobs is not None:
        jobs.wake()


def add_routes(router: APIRouter, prefix: str, resolve: Resolve, finish: Finish | None = None) -> None:
    """Register the changes posted from the application pages under ``prefix`` of ``router``
    (``apppages.add_routes`` registers the pages); ``finish`` as there."""
    run = runner(resolve, finish)

    def post(
        request: Request, right: str, form: Form, act: Act, again: Callable[[Viewer], Again]
    ) -> Awaitable[Response]:
        return run(request, lambda v: change(request, v, right, form, lambda c, f: act(v, c, f), again(v)))

    def on_endpoint(request: Request, endpoint_id: str) -> Callable[[Viewer], Again]:
        """The endpoint's page again: where its forms are."""
        return lambda v: lambda refusal: endpoint_page(request, v, endpoint_id, refusal)

    @router.post(prefix + "/endpoints")
    async def endpoint_create(request: Request) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            body = EndpointIn.model_validate(appforms.endpoint_fields(form))
            fields = body.model_dump(exclude={"secret", "headers", "key_type"})
            created = await endpoints.create(
                ctx, v.app.id, fields, secret=None, key_type=body.key_type, headers=None, tenant=v.tenant
            )
            return f"{v.base}/endpoints/{created.id}"

        def again(v: Viewer) -> Again:
            return lambda refusal: home(request, v, refusal)

        return await post(request, MANAGE_ENDPOINT, appforms.NEW_ENDPOINT, act, again)

    @router.post(prefix + "/endpoints/{endpoint_id}/edit")
    async def endpoint_edit(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            raw = appforms.endpoint_fields(form)
            raw.setdefault("throttle_rate", None)
            body = EndpointPatch.model_validate(raw)
            fields = body.model_dump(exclude_unset=True)
            await endpoints.update(ctx, v.app.id, endpoint_id, fields, tenant=v.tenant)
            return f"{v.base}/endpoints/{endpoint_id}"

        return await post(request, MANAGE_ENDPOINT, appforms.SETTINGS, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/state")
    async def endpoint_state(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            if form.get("disabled") not in ("true", "false"):
                raise BadForm(
                    "disabled", "The form said neither to disable nor to enable the endpoint: reload the page."
                )
            await endpoints.update(
                ctx, v.app.id, endpoint_id, {"disabled": form["disabled"] == "true"}, tenant=v.tenant
            )
            return f"{v.base}/endpoints/{endpoint_id}"

        return await post(request, MANAGE_ENDPOINT, appforms.STATE, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/delete")
    async def endpoint_delete(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            await endpoints.delete(ctx, v.app.id, endpoint_id, tenant=v.tenant)
            return f"{v.base}/"

        return await post(request, MANAGE_ENDPOINT, appforms.DELETE, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/headers")
    async def endpoint_headers(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            body = EndpointHeadersIn.model_validate({"headers": appforms.header_lines(form.get("headers", ""))})
            # The textarea holds the whole set: saving replaces it (credentials, never shown, stay).
            await endpoints.replace_headers(ctx, v.app.id, endpoint_id, body.headers, tenant=v.tenant, keep_hidden=True)
            return f"{v.base}/endpoints/{endpoint_id}"

        return await post(request, MANAGE_ENDPOINT, appforms.HEADERS, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/rotate-secret")
    async def endpoint_rotate(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            endpoint = await endpoints.get(ctx, v.app.id, endpoint_id, tenant=v.tenant)
            key_type = form.get("key_type") or "hmac"
            if key_type not in ("hmac", "ed25519"):
                raise BadForm("key_type", "The key type must be hmac or ed25519.")
            await endpoints.rotate_secret(
                ctx, v.app.id, endpoint.id, key=None, key_type=key_type, grace_seconds=None, tenant=v.tenant
            )
            return f"{v.base}/endpoints/{endpoint.id}?secret=show#secret"

        return await post(request, MANAGE_SECRET, appforms.ROTATE, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/test")
    async def endpoint_test(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            event_type = form.get("event_type", "").strip()
            if not event_type:
                raise BadForm("event_type", "Event type is required: choose one from the list or type its name.")
            message = await publishing.send_example(ctx, v.app.id, endpoint_id, event_type, tenant=v.tenant)
            return f"{v.base}/messages/{message.id}"

        return await post(request, CREATE_ATTEMPTS, appforms.TEST_EVENT, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/endpoints/{endpoint_id}/recover")
    async def endpoint_recover(request: Request, endpoint_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            since = appforms.ms(form.get("since", ""), "since", "Since")
            if since is None:
                raise BadForm("since", "Since is required: give the time to start from.")
            kind = form.get("kind", "recover")
            endpoint = await endpoints.get(ctx, v.app.id, endpoint_id, tenant=v.tenant)
            if kind == "recover":
                task = await recovery.start_recover(ctx.db, v.app.id, endpoint.id, since, None)
            elif kind == "replay-missing":
                task = await recovery.start_replay_missing(ctx.db, v.app.id, endpoint.id, since, None)
            elif kind == "bulk-replay":
                task = await recovery.start_bulk_replay(ctx.db, v.app.id, endpoint.id, recovery.ReplayFilter(since))
            else:
                raise BadForm("kind", "Choose what to send: recover, replay missing or bulk replay.")
            _wake_jobs(request)
            return f"{v.base}/jobs/{task.id}"

        return await post(request, CREATE_ATTEMPTS, appforms.SEND_AGAIN, act, on_endpoint(request, endpoint_id))

    @router.post(prefix + "/messages/{msg_id}/resend")
    async def message_resend(request: Request, msg_id: str) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            endpoint_id = form.get("endpoint_id", "")
            if not endpoint_id:
                raise BadForm(None, "The form did not say which endpoint to send it to: reload the page.")
            await publishing.resend(ctx, v.app.id, msg_id, endpoint_id, tenant=v.tenant)
            return f"{v.base}/messages/{msg_id}#endpoint-{endpoint_id}"

        def again(v: Viewer) -> Again:
            return lambda refusal: message_page(request, v, msg_id, refusal)

        return await post(request, CREATE_ATTEMPTS, appforms.RESEND, act, again)

    @router.post(prefix + "/attempts/retry-failed")
    async def attempts_retry_failed(request: Request) -> Response:
        async def act(v: Viewer, ctx: Context, form: dict[str, str]) -> str:
            since = appforms.ms(form.get("since", ""), "since", "Messages sent from")
            if since is None:
                raise BadForm("since", "Messages sent from is required: give the time to start from.")
            until = appforms.ms(form.get("until", ""), "until", "Sent until")
            if until is not None and until <= since:
                raise BadForm("until", "Sent until must be later than Messages sent from.")
            endpoint_key = form.get("endpoint", "").strip()
            endpoint_id = (
                (await endpoints.get(ctx, v.app.id, endpoint_key, tenant=v.tenant)).id if endpoint_key else None
            )
            # The application's bulk replay (POST .../bulk-replay), of the failed deliveries only:
            # those whose retries ran out; a failed attempt with a retry still due is not one.
            f = recovery.ReplayFilter(
                since, until, event_types=appforms.csv(form.get("event_type", "")), status=int(DeliveryStatus.FAIL)
            )
            task = await recovery.start_bulk_replay(ctx.db, v.app.id, endpoint_id, f)
            _wake_jobs(request)
            return f"{v.base}/jobs/{task.id}"

        def again(v: Viewer) -> Again:
            return lambda refusal: attempts_page(request, v, refusal)

        return await post(request, CREATE_ATTEMPTS, RETRY_FAILED, act, again)
