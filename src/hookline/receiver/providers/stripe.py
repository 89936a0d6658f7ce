"""Stripe: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]``.

HMAC-SHA256 of ``{t}.{body}`` keyed with the whole ``whsec_...`` string (not
base64-decoded, unlike Standard Webhooks). Like Stripe's own libraries, only
timestamps older than the tolerance (300 s) are rejected (stripe-python
``WebhookSignature.verify_header``: ``timestamp < time.time() - tolerance``).
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp, timestamped_signatures
from hookline.receiver.request import SignedRequest

DEFAULT_TOLERANCE = 300


def verify_stripe(request: SignedRequest) -> None:
    timestamp, signatures = timestamped_signatures(
        request.headers.require("stripe-signature"),
        separator=",",
        timestamp_key="t",
        signature_key="v1",
        name="Stripe-Signature",
    )
    seconds = parse_timestamp(timestamp, "Stripe-Signature t")
    request.check_timestamp(seconds, default=DEFAULT_TOLERANCE, future=False)
    expected = hmac_text(request.secret, f"{timestamp}.".encode() + request.body)
    if not matches_any(expected, signatures):
        raise WebhookVerificationError("no Stripe signature matches")
