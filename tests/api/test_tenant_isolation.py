"""Every route, called with another application's token or ids, reveals nothing.

The routes come from hookline's own OpenAPI document, so a new route is covered
the day it is added.
"""

import asyncio
import re
from typing import Any

import httpx
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver

from hookline.store import tokens
from hookline.store.database import Database

# Minimal valid bodies, so the request reaches the authorization check.
BODIES: dict[str, Any] = {
    "v1.application.update": {"name": "x"},
    "v1.application.patch": {"name": "x"},
    "v1.endpoint.create": {"url": "https://example.com/h"},
    "v1.endpoint.update": {"url": "https://example.com/h"},
    "v1.endpoint.patch": {"description": "x"},
    "v1.endpoint.update-headers": {"headers": {"X-A": "1"}},
    "v1.endpoint.patch-headers": {"headers": {"X-A": "1"}},
    "v1.endpoint.rotate-secret": {},
    "v1.endpoint.send-example": {"eventType": "user.created"},
    "v1.endpoint.recover": {"since": "2020-01-01T00:00:00Z"},
    "v1.endpoint.replay-missing": {"since": "2020-01-01T00:00:00Z"},
    "v1.message.create": {"eventType": "user.created", "payload": {"x": 1}},
    "v1.authentication.app-portal-access": {},
    "hookline.inspect.replay": {"url": "https://example.com/h"},
}
# Routes that are not about one application's data (logout would end B's token mid-test).
GLOBAL = re.compile(r"^/api/v1/(health|event-type|openapi|auth/logout)|^/metrics")


def _app_token(url: str, app_id: str) -> str:
    async def create() -> str:
        db = Database(url)
        try:
            async with db.write() as conn:
                return await tokens.create(conn, app_id=app_id, name="test")
        finally:
            await db.close()

    return asyncio.run(create())


def _fill(path: str, ids: dict[str, str]) -> str | None:
    try:
        return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
    except KeyError:
        return None


def test_no_route_leaks_across_applications(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        app_a, ep_a = make_endpoint(admin, receiver.url(), app_uid="tenant-a")
        app_b, _ep_b = make_endpoint(admin, receiver.url(), app_uid="tenant-b")
        msg_a = publish(admin, "tenant-a")
        attempt_a = wait_attempts(admin, "tenant-a", ep_a, 1)[0]["id"]
        spec = admin.get("/api/v1/openapi.json").json()
    token_b = _app_token(hookline.settings.database_url, app_b)
    # A capture URL of A's (the inspector): its routes carry no app id, only the bin's.
    with httpx.Client(
        base_url=hookline.url, headers={"Authorization": f"Bearer {_app_token(hookline.settings.database_url, app_a)}"}
    ) as as_a:
        bin_a = as_a.post("/api/v1/inspect", json={}).json()
        httpx.post(hookline.url + httpx.URL(bin_a["url"]).path, content=b"for A only")
        request_a = as_a.get(f"/api/v1/inspect/{bin_a['id']}/request").json()["data"][0]["id"]
    secrets_a = {app_a, ep_a, msg_a, attempt_a, "tenant-a", bin_a["id"], request_a, bin_a["url"]}
    a_ids = {
        "app_id": app_a,
        "endpoint_id": ep_a,
        "msg_id": msg_a,
        "attempt_id": attempt_a,
        "bin_id": bin_a["id"],
        "request_id": request_a,
    }
    # B's token on A's ids; and B's token on B's app path with A's sub-resources.
    mixed_ids = {**a_ids, "app_id": app_b}
    checked = 0
    with httpx.Client(base_url=hookline.url, headers={"Authorization": f"Bearer {token_b}"}) as as_b:
        for path, operations in spec["paths"].items():
            if GLOBAL.match(path):
                continue
            for method, op in operations.items():
                for ids in (a_ids, mixed_ids):
                    url = _fill(path, ids)
                    if url is None or (ids is mixed_ids and "{app_id}" not in path):
                        continue
                    body = BODIES.get(op.get("operationId", ""), {} if method in ("post", "put", "patch") else None)
                    resp = as_b.request(method.upper(), url, json=body)
                    checked += 1
                    where = f"{method.upper()} {url}"
                    if path == "/api/v1/inspect":
                        # B's own bins: it may make one and list them, and sees none of A's.
                        assert resp.status_code in (200, 201), where
                        assert not any(s in resp.text for s in secrets_a), f"{where} leaked: {resp.text}"
                        continue
                    if path == "/api/v1/app" and method == "get":
                        assert resp.status_code == 200, where
                        assert [a["id"] for a in resp.json()["data"]] == [app_b], where
                        continue
                    if ids is mixed_ids and "{" not in path.replace("{app_id}", ""):
                        # B on its own app-level route (e.g. list B's endpoints): allowed, but only B's data.
                        assert resp.status_code < 500, where
                    else:
                        assert resp.status_code in (401, 403, 404, 422), f"{where}: {resp.status_code} {resp.text}"
                    assert not any(s in resp.text for s in secrets_a), f"{where} leaked: {resp.text}"
    assert checked > 30
    # Nothing B did changed A.
    with hookline.client() as admin:
        assert admin.get(f"/api/v1/app/tenant-a/endpoint/{ep_a}").json()["url"] == receiver.url()
        assert admin.get("/api/v1/app/tenant-a").json()["name"] == "tenant-a"
