"""Zoom: ``x-zm-signature: v0=<hex>`` over ``v0:{x-zm-request-timestamp}:{body}``.

HMAC-SHA256 keyed with the app's secret token. Zoom documents no timestamp
window, so none is enforced unless ``tolerance`` is given.
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest


def verify_zoom(request: SignedRequest) -> None:
    signature = request.headers.require("x-zm-signature")
    stamp = request.headers.require("x-zm-request-timestamp")
    request.check_timestamp(parse_timestamp(stamp, "x-zm-request-timestamp"), default=None)
    expected = "v0=" + hmac_text(request.secret, f"v0:{stamp}:".encode() + request.body)
    if not matches_any(expected, [signature]):
        raise WebhookVerificationError("Zoom signature does not match")


def url_validation_response(plain_token: str, secret: str) -> dict[str, str]:
    """The answer to Zoom's ``endpoint.url_validation`` challenge."""
    return {"plainToken": plain_token, "encryptedToken": hmac_text(secret, plain_token.encode())}
