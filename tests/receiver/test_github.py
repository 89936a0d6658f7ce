"""GitHub, against the example in GitHub's documentation."""

import pytest

import hookline

from .helpers import hmac_hex, rejects

SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
DOCS_SHA256 = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def check(headers: dict[str, str], body: bytes = BODY, secret: str = SECRET) -> None:
    hookline.verify("github", secret=secret, headers=headers, body=body)


def test_documented_vector() -> None:
    check({"X-Hub-Signature-256": DOCS_SHA256})


def test_legacy_sha1_header_when_sha256_absent() -> None:
    check({"X-Hub-Signature": "sha1=" + hmac_hex(SECRET, BODY, "sha1")})


def test_sha256_header_wins_over_sha1() -> None:
    with rejects("does not match"):
        check(
            {
                "X-Hub-Signature-256": "sha256=" + "0" * 64,
                "X-Hub-Signature": "sha1=" + hmac_hex(SECRET, BODY, "sha1"),
            }
        )


@pytest.mark.parametrize(
    ("headers", "body", "secret", "match"),
    [
        ({"X-Hub-Signature-256": DOCS_SHA256}, b"Hello, World?", SECRET, "does not match"),
        ({"X-Hub-Signature-256": DOCS_SHA256}, BODY, "wrong", "does not match"),
        ({"X-Hub-Signature-256": DOCS_SHA256.replace("sha256=", "sha1=")}, BODY, SECRET, "start with"),
        ({"X-Hub-Signature-256": DOCS_SHA256.removeprefix("sha256=")}, BODY, SECRET, "start with"),
        ({"X-Hub-Signature-256": DOCS_SHA256.upper()}, BODY, SECRET, "start with"),
        ({}, BODY, SECRET, "missing x-hub-signature-256 or x-hub-signature"),
    ],
)
def test_rejections(headers: dict[str, str], body: bytes, secret: str, match: str) -> None:
    with rejects(match):
        check(headers, body, secret)
