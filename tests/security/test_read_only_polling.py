"""A consumer poll (GET .../poller/{sink}/consumer/{id}) is a read that moves the consumer's
cursor: whatever it hands over, the consumer's next poll no longer gets. A read-only portal link
(or one limited to some capabilities) must not be able to do that to the tenant's own consumer,
while a plain poll, which remembers nothing, stays a read."""

import time
from typing import Any

import httpx
from tests.support.servers import Hookline

from hookline.services.poller import SETTLE_MS


def _portal_token(admin: httpx.Client, app: str, **grant: Any) -> str:
    resp = admin.post(f"/api/v1/auth/app-portal-access/{app}", json=grant)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def _ids(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [m["id"] for m in resp.json()["data"]]


def test_a_read_only_link_cannot_move_a_polling_consumer(hookline: Hookline) -> None:
    with hookline.client() as admin:
        assert admin.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
        sink = admin.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/h", "disabled": True})
        assert sink.status_code == 201, sink.text
        sink_id = sink.json()["id"]
        published = []
        for n in range(3):
            resp = admin.post("/api/v1/app/acme/msg", json={"eventType": "order.paid", "payload": {"n": n}})
            assert resp.status_code == 202, resp.text
            published.append(resp.json()["id"])
        read_only = _portal_token(admin, "acme", readOnly=True)
        limited = _portal_token(admin, "acme", capabilities=["ViewBase", "CreateAttempts"])
        full = _portal_token(admin, "acme")
    time.sleep(SETTLE_MS / 1000 + 0.2)  # messages are handed over once settled
    consumer = f"/api/v1/app/acme/poller/{sink_id}/consumer/billing"

    for token in (read_only, limited):
        with hookline.client(token) as tenant:
            # Reading is what these links are for: a plain poll remembers nothing.
            assert _ids(tenant.get(f"/api/v1/app/acme/poller/{sink_id}")) == published
            moved = tenant.get(consumer)
            assert moved.status_code == 403, moved.text
            assert moved.json()["code"] == "forbidden"

    # The consumer still gets every message, once, and a full link may consume as before.
    with hookline.client(full) as tenant:
        assert _ids(tenant.get(consumer)) == published
        assert _ids(tenant.get(consumer)) == []
