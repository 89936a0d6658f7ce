"""``hookline.verify``: one call for every provider."""

import time

from hookline.receiver.crypto import to_bytes
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers, HeadersLike
from hookline.receiver.providers import PROVIDERS, Verifier
from hookline.receiver.request import SignedRequest


def resolve(provider: str | Verifier) -> Verifier:
    """The verifier for a provider name, or the given scheme itself."""
    if not isinstance(provider, str):
        return provider
    verifier = PROVIDERS.get(provider.lower())
    if verifier is None:
        hint = " (use verify(HmacScheme(...), ...))" if provider.lower() == "hmac" else ""
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}{hint}; known: {known}")
    return verifier


def verify(
    provider: str | Verifier,
    *,
    secret: str,
    headers: HeadersLike,
    body: bytes | str,
    url: str | None = None,
    method: str = "POST",
    now: float | None = None,
    tolerance: float | None = None,
) -> None:
    """Return quietly if the request is an authentic webhook from ``provider``.

    Raises :class:`WebhookVerificationError` otherwise. ``body`` is the raw body
    exactly as received; ``url`` is the full request URL (needed by Twilio,
    Square and HubSpot); ``now`` fixes the clock (Unix seconds); ``tolerance``
    overrides the provider's documented timestamp window (seconds).
    """
    verifier = resolve(provider)
    if not secret:
        raise WebhookVerificationError("no secret configured")
    request = SignedRequest(
        headers=Headers(headers),
        body=to_bytes(body),
        secret=secret,
        url=url,
        method=method,
        now=time.time() if now is None else now,
        tolerance=tolerance,
    )
    verifier(request)
