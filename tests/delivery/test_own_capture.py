"""The engine may reach this server's own capture URLs (``hookline listen --app``) on any
address, and nothing else there."""

import pytest
from yarl import URL

from hookline.delivery.transport import is_own_capture_url

BASE = URL("http://127.0.0.1:8071")


@pytest.mark.parametrize(
    ("url", "own"),
    [
        ("http://127.0.0.1:8071/i/abc", True),
        ("http://127.0.0.1:8071/i/abc/deeper?x=1", True),
        ("http://127.0.0.1:8071/api/v1/app", False),
        ("http://127.0.0.1:8071/i/../api/v1/app", False),  # sent as /api/v1/app
        ("http://127.0.0.1:8071/i/%2e%2e/api/v1/app", False),
        ("http://127.0.0.1:8071/in/abc", False),
        ("http://127.0.0.1:8072/i/abc", False),
        ("https://127.0.0.1:8071/i/abc", False),
        ("http://127.0.0.2:8071/i/abc", False),
        ("http://127.0.0.1:8071@10.0.0.1/i/abc", False),
        ("http://localhost:8071/i/abc", False),
    ],
)
def test_only_capture_urls_of_this_server(url: str, own: bool) -> None:
    assert is_own_capture_url(url, BASE) is own


@pytest.mark.parametrize(
    ("url", "own"),
    [
        ("https://example.com/hookline/i/abc", True),
        ("https://example.com/i/abc", False),  # another application on the same host
        ("https://example.com/hookline/api/v1/app", False),
        ("https://example.com/hookline/i/../../i/abc", False),  # sent as /i/abc
    ],
)
def test_a_public_url_with_a_path_keeps_its_capture_urls_below_it(url: str, own: bool) -> None:
    assert is_own_capture_url(url, URL("https://example.com/hookline/")) is own
