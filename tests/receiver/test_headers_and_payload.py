"""Headers normalisation and turning verified bodies into events."""

import pytest

from hookline.receiver import Headers, WebhookPayloadError, WebhookVerificationError, parse_payload


def test_headers_are_case_insensitive_from_any_shape() -> None:
    for raw in ({"X-Thing": " a "}, [("x-thing", "a")], [(b"X-THING", b"a")], Headers({"x-thing": "a"})):
        headers = Headers(raw)
        assert headers["X-THING"] == "a"
        assert "x-Thing" in headers
        assert headers.get("missing") is None
        assert list(headers) == ["x-thing"]


def test_first_value_of_a_repeated_header_wins_and_empty_counts_as_missing() -> None:
    headers = Headers([("A", "1"), ("a", "2"), ("B", "")])
    assert headers["a"] == "1"
    assert headers.first("b", "a") == "1"
    with pytest.raises(WebhookVerificationError, match="missing b or c header"):
        headers.require("b", "c")


def test_latin1_bytes_headers() -> None:
    assert Headers([(b"x", "é".encode("latin-1"))])["x"] == "é"


@pytest.mark.parametrize(
    ("content_type", "body", "event"),
    [
        ("application/json", b'{"a": 1}', {"a": 1}),
        ("application/cloudevents+json; charset=utf-8", b"[1]", [1]),
        (None, b'"x"', "x"),
        ("application/x-www-form-urlencoded", b"a=1&b=&a=2&c=%C3%A9", {"a": "1", "b": "", "c": "é"}),
        ("text/plain", b"raw \xff", b"raw \xff"),
    ],
)
def test_parse_payload(content_type: str | None, body: bytes, event: object) -> None:
    assert parse_payload(body, content_type) == event


def test_parse_multipart_fields_and_files() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n'
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\n\x00\x01\r\n--b--\r\n'
    )
    assert parse_payload(body, "multipart/form-data; boundary=b") == {"text": "hello", "f": b"\x00\x01"}


@pytest.mark.parametrize(
    ("content_type", "body", "match"),
    [
        ("application/json", b"{", "not valid JSON"),
        ("application/json", b"\xff", "not valid JSON"),
        ("application/x-www-form-urlencoded", b"a=\xff", "not UTF-8"),
        ("multipart/form-data; boundary=b", b"no parts here", "no parts"),
    ],
)
def test_unparsable_payloads(content_type: str, body: bytes, match: str) -> None:
    with pytest.raises(WebhookPayloadError, match=match):
        parse_payload(body, content_type)
