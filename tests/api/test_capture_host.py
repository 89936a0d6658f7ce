"""HOOKLINE_CAPTURE_URL puts capture URLs on a host of their own: what a bin answers (chosen by
whoever made it) never comes from the dashboard's origin, and that host serves nothing else.

Two names of this machine stand for the two hosts: the dashboard and API at 127.0.0.1, the capture
URLs at localhost (requests go to 127.0.0.1 either way, with the name in ``Host``)."""

from collections.abc import Iterator

import httpx
import pytest
from tests.support import servers
from tests.support.servers import Hookline, free_port, run_hookline, wait_until

from hookline.config import ConfigError, Settings, check


@pytest.fixture
def split(database_url: str) -> Iterator[Hookline]:
    port = free_port()
    settings = servers.test_settings(
        database_url, public_url=f"http://127.0.0.1:{port}", capture_url=f"http://localhost:{port}"
    )
    with run_hookline(settings, port=port) as hl:
        yield hl


def test_capture_urls_answer_on_their_own_host_only(split: Hookline) -> None:
    with split.client() as admin:
        made = admin.post("/api/v1/inspect", json={"response": {"body": "<h1>hi</h1>", "contentType": "text/html"}})
        assert made.status_code == 201, made.text
        bin_ = made.json()
        port = split.url.rsplit(":", 1)[1]
        assert bin_["url"].startswith(f"http://localhost:{port}/i/")
        path = bin_["url"].split(f":{port}", 1)[1]

        # On the capture host: taken and recorded, answered as the bin says.
        taken = httpx.post(split.url + path, content=b"one", headers={"Host": f"localhost:{port}"})
        assert taken.status_code == 200 and taken.text == "<h1>hi</h1>"
        # On the dashboard's host: refused, naming where capture URLs are; nothing recorded.
        wrong = httpx.post(split.url + path, content=b"two", headers={"Host": f"127.0.0.1:{port}"})
        assert wrong.status_code == 421
        assert wrong.json()["detail"] == f"capture URLs are served at http://localhost:{port}/i/..., not on this host"
        assert "<h1>" not in wrong.text
        rows = wait_until(lambda: admin.get(f"/api/v1/inspect/{bin_['id']}/request").json()["data"])
        (row,) = rows
        assert admin.get(f"/api/v1/inspect/{bin_['id']}/request/{row['id']}").json()["body"] == "one"


def test_the_capture_host_serves_nothing_else(split: Hookline) -> None:
    port = split.url.rsplit(":", 1)[1]
    capture_host = {"Host": f"LOCALHOST.:{port}"}  # a host name is one however it is written
    for path in ("/ui/", "/ui/login", "/api/v1/app", "/in/sometoken", "/"):
        auth = {"Authorization": f"Bearer {servers.ADMIN_TOKEN}"}
        resp = httpx.get(split.url + path, headers={**capture_host, **auth}, timeout=30)
        assert resp.status_code == 421, path
        assert resp.json() == {
            "code": "misdirected",
            "detail": f"this host serves capture URLs only; the dashboard and the API are at http://127.0.0.1:{port}",
        }
    # The dashboard and the API answer on theirs.
    assert httpx.get(split.url + "/ui/login").status_code == 200
    with split.client() as admin:
        assert admin.get("/api/v1/app").status_code == 200


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"public_url": "https://hooks.example.com", "capture_url": "https://HOOKS.example.com:8443"},
            "HOOKLINE_CAPTURE_URL must be on another host name than the dashboard",
        ),
        ({"port": 8071, "capture_url": "http://127.0.0.1:9000"}, "must be on another host name"),
        ({"capture_url": "hooks.example.com"}, "HOOKLINE_CAPTURE_URL must be an http:// or https:// URL with a host"),
        ({"capture_url": "ftp://hooks.example.com"}, "HOOKLINE_CAPTURE_URL must start with http:// or https://"),
        ({"capture_url": "https://hooks.example.com/?x=1"}, "HOOKLINE_CAPTURE_URL cannot have a query or a fragment"),
    ],
)
def test_a_capture_url_that_would_not_separate_is_refused(fields: dict[str, object], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        check(Settings(database_url="sqlite:///x.db").with_overrides(**fields))


def test_capture_urls_stay_on_the_public_url_without_it() -> None:
    settings = check(Settings(database_url="sqlite:///x.db", public_url="https://example.com/hookline/"))
    assert settings.capture_base() == "https://example.com/hookline"
    assert settings.capture_host() is None
    split = settings.with_overrides(capture_url="https://hooks.example.net/")
    assert split.capture_base() == "https://hooks.example.net"
    assert split.capture_host() == "hooks.example.net"


def test_deliveries_reach_this_servers_capture_urls_on_their_host(database_url: str) -> None:
    """``hookline listen --app`` relays an application's endpoint through a capture URL: the SSRF
    guard lets deliveries reach this server's own, at the capture host, and nothing else there."""
    port = free_port()
    settings = servers.test_settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        capture_url=f"http://localhost:{port}",
        allowed_cidrs=(),  # loopback is refused, but for the server's own capture URLs
    )
    with run_hookline(settings, port=port) as hl, hl.client() as admin:
        bin_ = admin.post("/api/v1/inspect", json={}).json()
        assert admin.post("/api/v1/app", json={"name": "relay", "uid": "relay"}).status_code == 201
        for url in (bin_["url"], f"http://127.0.0.1:{port}/i/" + bin_["url"].rsplit("/i/", 1)[1]):
            made = admin.post("/api/v1/app/relay/endpoint", json={"url": url})
            assert made.status_code == 201, made.text
        assert admin.post("/api/v1/app/relay/msg", json={"eventType": "e", "payload": {"n": 1}}).status_code == 202
        rows = wait_until(lambda: admin.get(f"/api/v1/inspect/{bin_['id']}/request").json()["data"])
        attempts = wait_until(
            lambda: (
                (found := admin.get("/api/v1/app/relay/attempt/endpoint/" + made.json()["id"]).json()["data"]) and found
            )
        )
    assert len(rows) == 1  # through the capture host
    # The same path on the dashboard's host is not this server's capture URL: the guard refuses it.
    assert attempts[0]["responseStatusCode"] == 0
