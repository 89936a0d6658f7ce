"""Flask: a view decorator that verifies the request and passes the event first.

::

    @app.post("/hooks/github")
    @verified_webhook("github", secret=lambda: app.config["GITHUB_SECRET"])
    def hook(event: dict) -> str: ...
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Response, request

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
R = TypeVar("R")


def verified_webhook(
    provider: str | Verifier,
    *,
    secret: SecretSource,
    tolerance: float | None = None,
    url: str | None = None,
    replay_guard: ReplayGuard | None = None,
    replay_key: ReplayKey = webhook_id,
) -> Callable[[Callable[Concatenate[Any, P], R]], Callable[P, R | Response]]:
    """Reject unverified requests (401, replay 409, unparsable body 400) before the view runs."""
    require_sync_guard(replay_guard)
    endpoint = Endpoint(provider, secret, tolerance, url, replay_guard, replay_key)

    def decorate(view: Callable[Concatenate[Any, P], R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            # get_data before anything touches request.form, which would consume the body.
            body = request.get_data(cache=True)
            headers = Headers(list(request.headers.items()))
            try:
                return endpoint.handle(headers, body, request.url, request.method, lambda e: view(e, *args, **kwargs))
            except WebhookVerificationError as exc:
                return Response(str(exc), status=exc.status_code, mimetype="text/plain")

        return wrapper

    return decorate
