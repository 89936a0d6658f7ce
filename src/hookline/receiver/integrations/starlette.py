"""FastAPI and Starlette: a dependency that verifies the request and yields the event.

FastAPI::

    github = VerifiedWebhook("github", secret=os.environ["GITHUB_SECRET"])

    @app.post("/hooks/github")
    async def hook(event: Annotated[dict, Depends(github)]) -> None: ...

Plain Starlette::

    @github.endpoint
    async def hook(request: Request, event: Any) -> Response: ...
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers
from hookline.receiver.integrations._common import Endpoint, ReplayKey, SecretSource, run_async
from hookline.receiver.providers import Verifier
from hookline.receiver.replay import AsyncReplayGuard, ReplayGuard, webhook_id

Handler = Callable[[Request, Any], Awaitable[Response]]


class VerifiedWebhook:
    """Verifies requests for one provider; see the module docstring for both uses.

    ``replay_guard`` may be synchronous (``MemoryReplayGuard``) or asynchronous
    (``AsyncRedisReplayGuard``). A request that fails verification is answered
    401, a replayed id 409, an authentic body that cannot be parsed 400.
    """

    def __init__(
        self,
        provider: str | Verifier,
        *,
        secret: SecretSource,
        tolerance: float | None = None,
        url: str | None = None,
        replay_guard: ReplayGuard | AsyncReplayGuard | None = None,
        replay_key: ReplayKey = webhook_id,
    ) -> None:
        self._endpoint = Endpoint(provider, secret, tolerance, url, replay_guard, replay_key)

    async def receive(self, request: Request) -> tuple[Any, str | None]:
        """Verify and claim the request: the event, and the replay key claimed (if any)."""
        body = await request.body()
        headers = Headers(request.headers.raw)
        endpoint = self._endpoint
        event = endpoint.authenticate(headers, body, str(request.url), request.method)
        if endpoint.replay_guard is None:
            return event, None
        key = endpoint.replay_key_for(headers, body)
        await run_async(endpoint.replay_guard.check, key)
        return event, key

    async def release(self, key: str | None) -> None:
        """Forget a claimed key so the sender's retry is accepted."""
        if key is not None and self._endpoint.replay_guard is not None:
            await run_async(self._endpoint.replay_guard.forget, key)

    async def __call__(self, request: Request) -> AsyncIterator[Any]:
        """The FastAPI dependency (a ``yield`` dependency, to release on failure)."""
        try:
            event, key = await self.receive(request)
        except WebhookVerificationError as exc:
            raise HTTPException(exc.status_code, str(exc)) from exc
        try:
            yield event
        except Exception:
            await self.release(key)
            raise

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap ``handler(request, event)`` into a plain Starlette endpoint."""

        @wraps(handler)
        async def wrapper(request: Request) -> Response:
            try:
                event, key = await self.receive(request)
            except WebhookVerificationError as exc:
                return PlainTextResponse(str(exc), status_code=exc.status_code)
            try:
                return await handler(request, event)
            except BaseException:
                await self.release(key)
                raise

        return wrapper
