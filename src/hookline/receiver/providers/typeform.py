"""Typeform: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 of the raw body."""

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.request import SignedRequest

PREFIX = "sha256="


def verify_typeform(request: SignedRequest) -> None:
    header = request.headers.require("typeform-signature")
    if not header.startswith(PREFIX):
        raise WebhookVerificationError(f"Typeform signature does not start with {PREFIX!r}")
    expected = hmac_text(request.secret, request.body, encoding="base64")
    if not matches_any(expected, [header.removeprefix(PREFIX)]):
        raise WebhookVerificationError("Typeform signature does not match")
