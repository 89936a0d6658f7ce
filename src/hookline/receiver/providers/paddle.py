"""Paddle Billing: ``Paddle-Signature: ts=<ts>;h1=<hex>[;h1=<hex>...]``.

HMAC-SHA256 of ``{ts}:{body}`` keyed with the notification destination's
secret key (``pdl_ntfset_...``, used as text). Several ``h1`` entries appear
during secret rotation.

Paddle's SDKs reject a timestamp more than 5 seconds old and accept one ahead
of the clock (paddle-python-sdk ``Verifier.verify``: ``time() > ts +
maximum_variance``; the Node ``WebhooksValidator`` and PHP ``Verifier`` compare
the same way; the Go SDK checks no time), so a receiver whose clock runs slow
is not locked out. Only Paddle can sign a future timestamp. We do the same.
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp, timestamped_signatures
from hookline.receiver.request import SignedRequest

DEFAULT_TOLERANCE = 5


def verify_paddle(request: SignedRequest) -> None:
    timestamp, signatures = timestamped_signatures(
        request.headers.require("paddle-signature"),
        separator=";",
        timestamp_key="ts",
        signature_key="h1",
        name="Paddle-Signature",
    )
    seconds = parse_timestamp(timestamp, "Paddle-Signature ts")
    request.check_timestamp(seconds, default=DEFAULT_TOLERANCE, future=False)
    expected = hmac_text(request.secret, f"{timestamp}:".encode() + request.body)
    if not matches_any(expected, signatures):
        raise WebhookVerificationError("no Paddle signature matches")
