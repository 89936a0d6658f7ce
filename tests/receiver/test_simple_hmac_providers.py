"""Shopify, Typeform, Linear and Zoom: single-header HMACs, checked against known answers
and against signatures computed here straight from each provider's documented recipe."""

import json

import pytest

import hookline
from hookline.receiver.providers.zoom import url_validation_response

from .helpers import NOW, hmac_b64, hmac_hex, rejects

SECRET = "whsec-or-token-7Qx"
BODY = b'{"id": 1234567890, "email": "customer@example.com", "note": "caf\xc3\xa9"}'


def test_shopify_known_answer() -> None:
    # Independently published HMAC-SHA256/base64 of a Shopify-style order body.
    body = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'
    headers = {"X-Shopify-Hmac-Sha256": "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="}
    hookline.verify("shopify", secret="test-webhook-secret", headers=headers, body=body)
    with rejects("Shopify signature does not match"):
        hookline.verify("shopify", secret="test-webhook-secret", headers=headers, body=body + b" ")
    with rejects("Shopify signature does not match"):
        hookline.verify("shopify", secret="other", headers=headers, body=body)


def test_shopify_hex_is_not_accepted() -> None:
    with rejects("does not match"):
        hookline.verify("shopify", secret=SECRET, headers={"x-shopify-hmac-sha256": hmac_hex(SECRET, BODY)}, body=BODY)


def test_typeform() -> None:
    good = {"Typeform-Signature": "sha256=" + hmac_b64(SECRET, BODY)}
    hookline.verify("typeform", secret=SECRET, headers=good, body=BODY)
    with rejects("does not start with 'sha256='"):
        hookline.verify("typeform", secret=SECRET, headers={"typeform-signature": hmac_b64(SECRET, BODY)}, body=BODY)
    with rejects("Typeform signature does not match"):
        hookline.verify("typeform", secret=SECRET, headers=good, body=BODY[:-1])
    with rejects("does not match"):
        hookline.verify(
            "typeform", secret=SECRET, headers={"typeform-signature": "sha256=" + hmac_hex(SECRET, BODY)}, body=BODY
        )


def linear_body(millis: int | None) -> bytes:
    payload: dict[str, object] = {"action": "create", "type": "Issue", "data": {"id": "x"}}
    if millis is not None:
        payload["webhookTimestamp"] = millis
    return json.dumps(payload).encode()


def test_linear_signature_and_body_timestamp() -> None:
    body = linear_body(NOW * 1000)
    headers = {"Linear-Signature": hmac_hex(SECRET, body)}
    for now in (NOW, NOW + 60, NOW - 60):
        hookline.verify("linear", secret=SECRET, headers=headers, body=body, now=now)
    with rejects("too old"):
        hookline.verify("linear", secret=SECRET, headers=headers, body=body, now=NOW + 61)
    with rejects("future"):
        hookline.verify("linear", secret=SECRET, headers=headers, body=body, now=NOW - 61)
    with rejects("Linear signature does not match"):
        hookline.verify("linear", secret="other", headers=headers, body=body, now=NOW)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (linear_body(None), "no integer webhookTimestamp"),
        (b'{"webhookTimestamp": "1700000000000"}', "no integer webhookTimestamp"),
        (b"[1, 2]", "no integer webhookTimestamp"),
        (b"not json", "not valid JSON"),
    ],
)
def test_linear_needs_a_timestamp_in_an_authentic_body(body: bytes, match: str) -> None:
    with rejects(match):
        hookline.verify(
            "linear", secret=SECRET, headers={"linear-signature": hmac_hex(SECRET, body)}, body=body, now=NOW
        )


def zoom_headers(body: bytes, ts: int = NOW, secret: str = SECRET) -> dict[str, str]:
    signature = "v0=" + hmac_hex(secret, f"v0:{ts}:".encode() + body)
    return {"x-zm-signature": signature, "x-zm-request-timestamp": str(ts)}


def test_zoom() -> None:
    hookline.verify("zoom", secret=SECRET, headers=zoom_headers(BODY), body=BODY, now=NOW)
    # Zoom documents no window: only an explicit tolerance enforces one.
    hookline.verify("zoom", secret=SECRET, headers=zoom_headers(BODY), body=BODY, now=NOW + 86400)
    with rejects("too old"):
        hookline.verify("zoom", secret=SECRET, headers=zoom_headers(BODY), body=BODY, now=NOW + 301, tolerance=300)
    with rejects("Zoom signature does not match"):
        hookline.verify(
            "zoom",
            secret=SECRET,
            headers=zoom_headers(BODY, ts=NOW + 1) | {"x-zm-request-timestamp": str(NOW)},
            body=BODY,
        )
    with rejects("Zoom signature does not match"):
        hookline.verify("zoom", secret=SECRET, headers=zoom_headers(BODY, secret="x"), body=BODY)


def test_zoom_url_validation_response() -> None:
    answer = url_validation_response("qgg8vlvZRS6UYooatFL8Aw", SECRET)
    assert answer == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hmac_hex(SECRET, b"qgg8vlvZRS6UYooatFL8Aw"),
    }
