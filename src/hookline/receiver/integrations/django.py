"""Django: a CSRF-exempt view decorator that verifies the request and passes the event.

::

    @require_POST
    @verified_webhook("stripe", secret=lambda: settings.STRIPE_WEBHOOK_SECRET)
    def hook(request: HttpRequest, event: dict) -> HttpResponse: ...
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers
from hookline.receiver.integrations._common import (
    Endpoint,
    ReplayKey,
    SecretSource,
    require_sync_guard,
)
from hookline.receiver.providers import Verifier
from hookline.receiver.replay import ReplayGuard, webhook_id

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def verified_webhook(
    provider: str | Verifier,
    *,
    secret: SecretSource,
    tolerance: float | None = None,
    url: str | None = None,
    replay_guard: ReplayGuard | None = None,
    replay_key: ReplayKey = webhook_id,
) -> Callable[[Callable[Concatenate[HttpRequest, Any, P], HttpResponse]], View[P]]:
    """Reject unverified requests (401, replay 409, unparsable body 400) before the view runs.

    Providers sign their requests instead of sending Django's CSRF token, so
    the wrapped view is CSRF-exempt. Synchronous views only.
    """
    require_sync_guard(replay_guard)
    endpoint = Endpoint(provider, secret, tolerance, url, replay_guard, replay_key)

    def decorate(view: Callable[Concatenate[HttpRequest, Any, P], HttpResponse]) -> View[P]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            headers = Headers(request.headers)
            url_seen = request.build_absolute_uri()
            try:
                return endpoint.handle(
                    headers,
                    request.body,
                    url_seen,
                    request.method or "POST",
                    lambda event: view(request, event, *args, **kwargs),
                )
            except WebhookVerificationError as exc:
                return HttpResponse(str(exc), status=exc.status_code, content_type="text/plain")

        exempt: View[P] = csrf_exempt(wrapper)
        return exempt

    return decorate
