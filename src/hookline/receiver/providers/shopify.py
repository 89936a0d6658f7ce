"""Shopify: ``X-Shopify-Hmac-Sha256: <base64>``, HMAC-SHA256 of the raw body."""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.request import SignedRequest


def verify_shopify(request: SignedRequest) -> None:
    header = request.headers.require("x-shopify-hmac-sha256")
    expected = hmac_text(request.secret, request.body, encoding="base64")
    if not matches_any(expected, [header]):
        raise WebhookVerificationError("Shopify signature does not match")
