from hookline.domain.captured import CapturedRequest, headers_from_json, headers_from_raw, headers_to_json


def test_headers_keep_order_repeats_and_bytes() -> None:
    raw = [(b"X-B", b"1"), (b"x-a", b"\xe9t\xe9"), (b"X-B", b"2")]
    headers = headers_from_raw(raw)
    assert headers_from_json(headers_to_json(headers)) == headers
    assert [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers] == raw
    request = CapturedRequest("POST", "/x", "a=1", headers, b"\x00\xff", None, 0)
    assert request.header("x-b") == "1"
    assert request.header_values("X-b") == ["1", "2"]
    assert request.header("content-type") is None and request.content_type is None
