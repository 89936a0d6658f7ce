"""Slack: ``X-Slack-Signature: v0=<hex>`` over ``v0:{X-Slack-Request-Timestamp}:{body}``.

HMAC-SHA256 keyed with the app's signing secret; timestamps more than five
minutes away in either direction are rejected, as in Slack's SDKs
(slack_sdk ``SignatureVerifier.is_valid``: ``abs(now - timestamp) > 60 * 5``).
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest

DEFAULT_TOLERANCE = 300


def verify_slack(request: SignedRequest) -> None:
    signature = request.headers.require("x-slack-signature")
    stamp = request.headers.require("x-slack-request-timestamp")
    request.check_timestamp(parse_timestamp(stamp, "X-Slack-Request-Timestamp"), default=DEFAULT_TOLERANCE)
    expected = "v0=" + hmac_text(request.secret, f"v0:{stamp}:".encode() + request.body)
    if not matches_any(expected, [signature]):
        raise WebhookVerificationError("Slack signature does not match")
