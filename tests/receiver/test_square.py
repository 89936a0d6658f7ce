"""Square, against the vectors in Square's Python SDK tests."""

import pytest

import hookline

from .helpers import hmac_b64, rejects

BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
KEY = "Ibxx_5AKakO-3qeNVR61Dw"
URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


def check(*, body: bytes = BODY, signature: str = SIGNATURE, key: str = KEY, url: str | None = URL) -> None:
    headers = {"x-square-hmacsha256-signature": signature}
    hookline.verify("square", secret=key, headers=headers, body=body, url=url)


def test_sdk_vector() -> None:
    check()


@pytest.mark.parametrize(
    "change",
    [
        {"url": "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9"},
        {"key": "MCmhFRxGX82xMwg5FsaoQA"},
        {"signature": "1z2n3DEJJiUPKcPzQo1ftvbxGdw="},
        {"body": BODY.replace(b"2022-07-13", b"2022-06-13")},
    ],
)
def test_sdk_rejections(change: dict[str, str]) -> None:
    with rejects("Square signature does not match"):
        check(**change)  # type: ignore[arg-type]


def test_url_is_required_and_signed_first() -> None:
    with rejects("pass url="):
        check(url=None)
    check(signature=hmac_b64(KEY, URL.encode() + BODY))
