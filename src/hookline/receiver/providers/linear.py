"""Linear: ``Linear-Signature: <hex>``, HMAC-SHA256 of the raw body.

Freshness comes from the body: ``webhookTimestamp`` (milliseconds) must be
within 60 seconds of now, either way, as Linear's SDK checks (@linear/sdk
``LinearWebhooks.verify``: ``Math.abs(now - timestamp) > 60 * 1000``).
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookPayloadError, WebhookVerificationError
from hookline.receiver.payload import parse_json
from hookline.receiver.request import SignedRequest

DEFAULT_TOLERANCE = 60


def _timestamp_millis(body: bytes) -> int:
    try:
        payload = parse_json(body)
    except WebhookPayloadError as exc:
        raise WebhookVerificationError(f"Linear body: {exc}") from exc
    value = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise WebhookVerificationError("Linear body has no integer webhookTimestamp")
    return value


def verify_linear(request: SignedRequest) -> None:
    signature = request.headers.require("linear-signature")
    if not matches_any(hmac_text(request.secret, request.body), [signature]):
        raise WebhookVerificationError("Linear signature does not match")
    # Only read the signed body once it is known to be authentic.
    millis = _timestamp_millis(request.body)
    request.check_timestamp(millis / 1000, default=DEFAULT_TOLERANCE)
