"""What every framework integration does, apart from reading requests and writing responses."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers
from hookline.receiver.payload import parse_payload
from hookline.receiver.providers import Verifier
from hookline.receiver.replay import AsyncReplayGuard, ReplayGuard, webhook_id
from hookline.receiver.verify import resolve, verify

SecretSource: TypeAlias = str | Callable[[], str]
ReplayKey: TypeAlias = Callable[[Headers, bytes], str | None]
R = TypeVar("R")


@dataclass(frozen=True)
class Endpoint:
    """How one receiving endpoint verifies its requests.

    ``secret`` may be a callable, read on every request, so settings can be
    loaded after import. ``url`` overrides the URL the framework reports
    (behind a proxy the public URL is the one the provider signed).
    ``replay_key`` picks the id a ``replay_guard`` remembers: the Standard
    Webhooks id by default.
    """

    provider: str | Verifier
    secret: SecretSource
    tolerance: float | None = None
    url: str | None = None
    replay_guard: ReplayGuard | AsyncReplayGuard | None = None
    replay_key: ReplayKey = webhook_id

    def __post_init__(self) -> None:
        resolve(self.provider)  # an unknown provider name fails at import, not per request

    def authenticate(self, headers: Headers, body: bytes, url: str, method: str) -> Any:
        """Verify the request and return its parsed event."""
        secret = self.secret() if callable(self.secret) else self.secret
        verify(
            self.provider,
            secret=secret,
            headers=headers,
            body=body,
            url=self.url or url,
            method=method,
            tolerance=self.tolerance,
        )
        return parse_payload(body, headers.first("content-type"))

    def replay_key_for(self, headers: Headers, body: bytes) -> str:
        """The key a replay guard claims for this request, namespaced by provider."""
        key = self.replay_key(headers, body)
        if not key:
            raise WebhookVerificationError("no webhook id to guard against replays")
        namespace = self.provider if isinstance(self.provider, str) else "custom"
        return f"{namespace}:{key}"

    def handle(self, headers: Headers, body: bytes, url: str, method: str, view: Callable[[Any], R]) -> R:
        """Verify, claim the id, run ``view(event)``; release the id if the view fails."""
        event = self.authenticate(headers, body, url, method)
        guard = self.replay_guard
        if guard is None:
            return view(event)
        key = self.replay_key_for(headers, body)
        _run_sync(guard.check, key)
        try:
            return view(event)
        except BaseException:
            _run_sync(guard.forget, key)
            raise


def require_sync_guard(guard: ReplayGuard | AsyncReplayGuard | None) -> None:
    """Synchronous frameworks cannot await an async guard: say so when decorating."""
    if guard is not None and inspect.iscoroutinefunction(guard.check):
        raise TypeError("this integration is synchronous: use a synchronous replay guard")


def _run_sync(method: Callable[[str], Any], key: str) -> None:
    result = method(key)
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # never awaited otherwise, which warns
        raise TypeError("this integration is synchronous: use a synchronous replay guard")


async def run_async(method: Callable[[str], Any], key: str) -> None:
    """Call a guard method that may be synchronous or asynchronous."""
    result = method(key)
    if inspect.isawaitable(result):
        await result
