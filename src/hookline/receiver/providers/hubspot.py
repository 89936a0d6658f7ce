"""HubSpot request signatures, v3 when present, else v1 or v2.

* v3: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256, keyed with the app's
  client secret, of method + URI + body + ``X-HubSpot-Request-Timestamp``
  (milliseconds). Some percent-escapes in the URI are decoded first, and
  timestamps older than five minutes are rejected; later ones are accepted, as
  in hubspot-api-python (``Signature._is_timestamp_valid``: ``now - ts < 300``).
* v1: ``X-HubSpot-Signature`` = hex SHA-256 of client secret + body.
* v2: hex SHA-256 of client secret + method + URI + body.
  ``X-HubSpot-Signature-Version`` says which of the two.
"""

import hashlib
import re

from hookline.receiver.crypto import hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest

DEFAULT_TOLERANCE = 300
# HubSpot signs the URI with exactly these characters unescaped.
_DECODED = {"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$"}
_DECODED |= {"27": "'", "28": "(", "29": ")", "2A": "*", "2C": ",", "3B": ";"}
_ESCAPE = re.compile("%(" + "|".join(_DECODED) + ")", re.IGNORECASE)


def v3_uri(url: str) -> str:
    return _ESCAPE.sub(lambda match: _DECODED[match.group(1).upper()], url)


def _verify_v3(request: SignedRequest, signature: str) -> None:
    stamp = request.headers.require("x-hubspot-request-timestamp")
    millis = parse_timestamp(stamp, "X-HubSpot-Request-Timestamp")
    request.check_timestamp(millis / 1000, default=DEFAULT_TOLERANCE, future=False)
    uri = v3_uri(request.require_url("HubSpot"))
    content = f"{request.method.upper()}{uri}".encode() + request.body + stamp.encode()
    if not matches_any(hmac_text(request.secret, content, encoding="base64"), [signature]):
        raise WebhookVerificationError("HubSpot v3 signature does not match")


def _verify_legacy(request: SignedRequest) -> None:
    signature = request.headers.require("x-hubspot-signature")
    version = request.headers.require("x-hubspot-signature-version").lower()
    if version == "v1":
        source = request.secret.encode() + request.body
    elif version == "v2":
        prefix = request.secret + request.method.upper() + request.require_url("HubSpot")
        source = prefix.encode() + request.body
    else:
        raise WebhookVerificationError(f"unknown HubSpot signature version {version!r}")
    if not matches_any(hashlib.sha256(source).hexdigest(), [signature]):
        raise WebhookVerificationError(f"HubSpot {version} signature does not match")


def verify_hubspot(request: SignedRequest) -> None:
    signature = request.headers.first("x-hubspot-signature-v3")
    if signature is not None:
        _verify_v3(request, signature)
    else:
        _verify_legacy(request)
