"""Mailgun: the signature block in a JSON body, in form fields, or in a multipart route post."""

import json

import pytest

import hookline

from .helpers import NOW, hmac_hex, rejects

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
TOKEN = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"


def block(ts: str = str(NOW), token: str = TOKEN, key: str = KEY) -> dict[str, str]:
    return {"timestamp": ts, "token": token, "signature": hmac_hex(key, (ts + token).encode())}


def json_body(signature: object) -> bytes:
    return json.dumps({"signature": signature, "event-data": {"event": "delivered"}}).encode()


def verify(body: bytes, content_type: str = "application/json", **kw: float) -> None:
    hookline.verify("mailgun", secret=KEY, headers={"Content-Type": content_type}, body=body, **kw)


def test_json_signature_block() -> None:
    verify(json_body(block()))
    verify(json_body(block()), content_type="")  # no Content-Type: JSON is assumed


def test_form_fields() -> None:
    fields = block()
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode() + b"&recipient=a%40b.com"
    verify(body, "application/x-www-form-urlencoded")


def test_multipart_route_post() -> None:
    fields = block() | {"body-plain": "Hi"}
    boundary = "XyZ123"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    attachment = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachment-1"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n"
    )
    body = ("".join(parts) + attachment + f"--{boundary}--\r\n").encode()
    verify(body, f"multipart/form-data; boundary={boundary}")


def test_timestamp_as_json_number_and_tolerance() -> None:
    signed = block()
    verify(json_body(signed | {"timestamp": NOW}), now=NOW)
    verify(json_body(signed), now=NOW + 86400)  # Mailgun documents no window
    with rejects("too old"):
        verify(json_body(signed), now=NOW + 301, tolerance=300)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (json_body(block() | {"token": "x" * 50}), "Mailgun signature does not match"),
        (json_body(block(key="other")), "Mailgun signature does not match"),
        (json_body(block() | {"signature": ""}), "no signature"),
        (json_body({k: v for k, v in block().items() if k != "token"}), "no token"),
        (json_body(block() | {"timestamp": True}), "no timestamp"),
        (json_body(block() | {"timestamp": "12.5"}), "not an integer"),
        (json_body("signature"), "no signature object"),
        (b"[]", "no signature object"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_rejections(body: bytes, match: str) -> None:
    with rejects(match):
        verify(body)
