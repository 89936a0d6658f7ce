"""Endpoint URLs are checked strictly (issue: close the holes, item 3): a URL hookline cannot
deliver to safely is refused at creation and update with a 422 naming the problem, and a URL
with ``user:password@`` is refused rather than shown in clear in every response and attempt."""

import httpx
from tests.support.api import make_endpoint
from tests.support.servers import Receiver

REFUSED = [
    ("https://example.com/a\x00b", "NUL"),
    ("https://example.com/a\x01b", "control character"),
    ("https://example.com\\@evil.example/", "backslash"),
    ("https://example.com:0/hook", "port 0"),
    ("https://xn--zz.example/hook", "invalid punycode"),
    ("https://ex\u200dample.com/hook", "invalid internationalized host label"),
    ("https://example.com/" + "a" * 2100, "the limit is 2048"),
    ("https://user:secret@example.com/hook", "user name or password"),
]


def _refused_naming(resp: httpx.Response, problem: str) -> None:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "validation"
    [item] = [i for i in body["detail"] if i["loc"][-1] == "url"]
    assert item["loc"] == ["body", "url"] and problem in item["msg"], item


def test_bad_endpoint_urls_are_refused_on_create_update_and_patch(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        app, endpoint = make_endpoint(admin, receiver.url())
        for url, problem in REFUSED:
            _refused_naming(admin.post(f"/api/v1/app/{app}/endpoint", json={"url": url}), problem)
            _refused_naming(admin.put(f"/api/v1/app/{app}/endpoint/{endpoint}", json={"url": url}), problem)
            _refused_naming(admin.patch(f"/api/v1/app/{app}/endpoint/{endpoint}", json={"url": url}), problem)
        # Nothing changed, and good URLs, IDN ones included, still work.
        assert admin.get(f"/api/v1/app/{app}/endpoint/{endpoint}").json()["url"] == receiver.url()
        for url in ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook", "http://[::1]:9/x"):
            created = admin.post(f"/api/v1/app/{app}/endpoint", json={"url": url})
            assert created.status_code == 201, created.text
            assert created.json()["url"] == url
        assert len(admin.get(f"/api/v1/app/{app}/endpoint").json()["data"]) == 4


def test_the_url_schema_documents_the_limit(hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as anonymous:
        spec = anonymous.get("/api/v1/openapi.json").json()
    url = spec["components"]["schemas"]["EndpointIn"]["properties"]["url"]
    assert url["maxLength"] == 2048 and "\\\\" in url["pattern"]
