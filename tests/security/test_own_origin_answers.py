"""Capture and ingest URLs answer on hookline's own origin, where the dashboard and the portal
run. What they answer is chosen by others (a tenant's capture URL page, a source's configured
answer), so it must not run script there or touch the origin's cookies: a tenant's page with a
script, opened by a signed-in operator, would act as the operator (tests/ui has the browser's
side of it)."""

from typing import Any

import httpx
import pytest
from tests.support.servers import Hookline

ORIGIN_HEADERS = ["Set-Cookie", "set-cookie2", "Clear-Site-Data", "Service-Worker-Allowed"]
PAGE = "<script>fetch('/ui/')</script><h1>thanks</h1>"


def _tenant_token(admin: httpx.Client) -> str:
    app = admin.post("/api/v1/app", json={"name": "tenant"}).json()
    resp = admin.post(f"/api/v1/auth/app-portal-access/{app['id']}", json={})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def _refusal(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 422, resp.text
    (problem,) = resp.json()["detail"]
    return dict(problem)


@pytest.mark.parametrize("name", ORIGIN_HEADERS)
def test_a_tenants_capture_url_cannot_answer_with_the_origins_cookies_or_storage(hookline: Hookline, name: str) -> None:
    with hookline.client() as admin:
        tenant = _tenant_token(admin)
    response = {"contentType": "text/html", "body": PAGE, "headers": [["X-Ok", "1"], [name, "a=b; Path=/"]]}
    with hookline.client(tenant) as api:
        problem = _refusal(api.post("/api/v1/inspect", json={"response": response}))
        assert problem["loc"][:3] == ["body", "response", "headers"]
        assert name in problem["msg"] and "dashboard" in problem["msg"]
        made = api.post("/api/v1/inspect", json={"response": {**response, "headers": [["X-Ok", "1"]]}})
        assert made.status_code == 201, made.text
        problem = _refusal(api.patch(f"/api/v1/inspect/{made.json()['id']}", json={"response": response}))
        assert problem["loc"][:3] == ["body", "response", "headers"]
        # Nothing of the refused change was kept.
        assert api.get(f"/api/v1/inspect/{made.json()['id']}").json()["response"]["headers"] == [["X-Ok", "1"]]


def test_a_capture_urls_page_is_sandboxed(hookline: Hookline) -> None:
    with hookline.client() as admin:
        tenant = _tenant_token(admin)
    with hookline.client(tenant) as api:
        made = api.post("/api/v1/inspect", json={"response": {"contentType": "text/html", "body": PAGE}})
    url = made.json()["url"].replace(made.json()["url"].split("/i/")[0], hookline.url)
    for method in ("GET", "POST"):
        resp = httpx.request(method, url, content=b"{}", timeout=30)
        assert resp.status_code == 200 and resp.text == PAGE
        assert resp.headers["content-type"].startswith("text/html")
        assert resp.headers["content-security-policy"] == "sandbox"
        assert resp.headers["x-content-type-options"] == "nosniff"


def test_a_sources_answer_is_sandboxed(hookline: Hookline) -> None:
    body = {
        "name": "donations",
        "type": "generic-webhook",
        "config": {},
        "response": {"statusCode": 200, "contentType": "text/html", "body": PAGE},
    }
    with hookline.client() as admin:
        resp = admin.post("/ingest/api/v1/source", json=body)
        assert resp.status_code == 201, resp.text
    url = f"{hookline.url}/in/" + resp.json()["ingestUrl"].rsplit("/in/", 1)[1]
    answer = httpx.post(url, content=b"amount=5", headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200 and answer.text == PAGE
    assert answer.headers["content-security-policy"] == "sandbox"
    assert answer.headers["x-content-type-options"] == "nosniff"
    # A request the source refuses is answered on the same origin too.
    refused = httpx.get(url + "/x", timeout=30)
    assert refused.headers["content-security-policy"] == "sandbox"
