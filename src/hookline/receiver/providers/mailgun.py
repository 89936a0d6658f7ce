"""Mailgun: the signature travels in the body, not in a header.

JSON webhooks carry ``{"signature": {"timestamp", "token", "signature"}}``;
older form (and multipart route) posts carry the same three as form fields.
The signature is hex HMAC-SHA256 of ``timestamp + token`` keyed with the HTTP
webhook signing key. Mailgun documents no timestamp window: cache tokens with
a replay guard, or pass ``tolerance``.
"""

from typing import Any

from hookline.receiver.crypto import hmac_text, matches_any, to_bytes
from hookline.receiver.errors import WebhookPayloadError, WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.payload import FORM, MULTIPART, form_fields, media_type, parse_json
from hookline.receiver.request import SignedRequest

_FIELDS = ("timestamp", "token", "signature")


def _signature_fields(request: SignedRequest) -> dict[str, Any]:
    content_type = request.headers.first("content-type")
    if media_type(content_type) in (FORM, MULTIPART):
        return dict(form_fields(request.body, content_type))
    try:
        payload = parse_json(request.body)
    except WebhookPayloadError as exc:
        raise WebhookVerificationError(f"Mailgun body: {exc}") from exc
    block = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(block, dict):
        raise WebhookVerificationError("Mailgun body has no signature object")
    return block


def verify_mailgun(request: SignedRequest) -> None:
    fields = _signature_fields(request)
    values: list[str] = []
    for name in _FIELDS:
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # JSON may carry the timestamp as a number
        if not isinstance(value, str) or not value:
            raise WebhookVerificationError(f"Mailgun signature has no {name}")
        values.append(value)
    timestamp, token, signature = values
    request.check_timestamp(parse_timestamp(timestamp, "Mailgun timestamp"), default=None)
    expected = hmac_text(request.secret, to_bytes(timestamp + token))
    if not matches_any(expected, [signature]):
        raise WebhookVerificationError("Mailgun signature does not match")
