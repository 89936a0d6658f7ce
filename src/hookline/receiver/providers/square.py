"""Square: ``x-square-hmacsha256-signature: <base64>``.

HMAC-SHA256 of the notification URL (exactly as registered with Square)
followed by the raw body, keyed with the subscription's signature key. Behind
a proxy, pass the public URL as ``url=``.
"""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.request import SignedRequest


def verify_square(request: SignedRequest) -> None:
    header = request.headers.require("x-square-hmacsha256-signature")
    content = request.require_url("Square").encode() + request.body
    if not matches_any(hmac_text(request.secret, content, encoding="base64"), [header]):
        raise WebhookVerificationError("Square signature does not match")
