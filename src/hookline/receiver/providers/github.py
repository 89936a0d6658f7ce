"""GitHub: ``X-Hub-Signature-256: sha256=<hex>`` (legacy ``X-Hub-Signature: sha1=<hex>``).

HMAC of the raw body keyed with the webhook secret. The SHA-1 header is only
consulted when the SHA-256 one is absent (old GitHub Enterprise servers).
"""

from hookline.receiver.crypto import Algorithm, hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.request import SignedRequest


def _signature(request: SignedRequest) -> tuple[Algorithm, str]:
    modern = request.headers.first("x-hub-signature-256")
    if modern is not None:
        return "sha256", modern
    return "sha1", request.headers.require("x-hub-signature-256", "x-hub-signature")


def verify_github(request: SignedRequest) -> None:
    algorithm, header = _signature(request)
    prefix = f"{algorithm}="
    if not header.startswith(prefix):
        raise WebhookVerificationError(f"GitHub signature does not start with {prefix!r}")
    expected = hmac_text(request.secret, request.body, algorithm)
    if not matches_any(expected, [header.removeprefix(prefix)]):
        raise WebhookVerificationError("GitHub signature does not match")
