"""Paddle Billing, against the vector in Paddle's Python SDK tests."""

import pytest

import hookline

from .helpers import hmac_hex, rejects

TS = 1696195954
SECRET = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"
OTHER_SECRET = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo"
HEADER = f"ts={TS};h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"
BODY = b"hello-world"


def check(header: str = HEADER, *, body: bytes = BODY, secret: str = SECRET, now: float = TS, **kw: float) -> None:
    hookline.verify("paddle", secret=secret, headers={"Paddle-Signature": header}, body=body, now=now, **kw)


def test_sdk_vector_with_rotation_entries() -> None:
    check()


def test_default_tolerance_is_five_seconds_into_the_past_only() -> None:
    check(now=TS + 5)
    check(now=TS - 3600)  # Paddle's SDK never rejects future timestamps
    with rejects("too old"):
        check(now=TS + 6)
    check(now=TS + 60, tolerance=60)


@pytest.mark.parametrize(
    ("header", "body", "secret", "match"),
    [
        (HEADER, b"hello-world!", SECRET, "no Paddle signature matches"),
        (HEADER, BODY, OTHER_SECRET, "no Paddle signature matches"),
        (f"ts={TS}", BODY, SECRET, "no h1 signature"),
        ("h1=abc", BODY, SECRET, "no ts= timestamp"),
        (f"ts=x{TS};h1=abc", BODY, SECRET, "not an integer"),
        (f"ts={TS},h1=abc", BODY, SECRET, "no h1 signature"),
    ],
)
def test_rejections(header: str, body: bytes, secret: str, match: str) -> None:
    with rejects(match):
        check(header, body=body, secret=secret)


def test_signed_content_is_ts_colon_body_and_unknown_keys_are_ignored() -> None:
    body = b'{"event_type":"transaction.completed"}'
    header = f"ts={TS};h2=future;h1={hmac_hex(SECRET, f'{TS}:'.encode() + body)}"
    check(header, body=body)
