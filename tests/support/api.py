"""Small helpers that set things up through hookline's real API."""

import hashlib
import hmac
from typing import Any

import httpx
from tests.support.servers import wait_until


def make_endpoint(client: httpx.Client, url: str, app_uid: str = "acme", **fields: Any) -> tuple[str, str]:
    """Create (or reuse) an application and add an endpoint; return their ids."""
    app = client.post("/api/v1/app", params={"get_if_exists": "true"}, json={"name": app_uid, "uid": app_uid})
    assert app.status_code in (200, 201), app.text
    ep = client.post(f"/api/v1/app/{app_uid}/endpoint", json={"url": url, **fields})
    assert ep.status_code == 201, ep.text
    return app.json()["id"], ep.json()["id"]


def publish(client: httpx.Client, app: str, event_type: str = "test.event", **fields: Any) -> str:
    body = {"eventType": event_type, "payload": fields.pop("payload", {"hello": "world"}), **fields}
    resp = client.post(f"/api/v1/app/{app}/msg", json=body)
    assert resp.status_code == 202, resp.text
    return str(resp.json()["id"])


def attempts(client: httpx.Client, app: str, endpoint: str) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/app/{app}/attempt/endpoint/{endpoint}", params={"limit": 250})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def wait_attempts(
    client: httpx.Client, app: str, endpoint: str, count: int, timeout: float = 10
) -> list[dict[str, Any]]:
    return list(
        wait_until(
            lambda: (found := attempts(client, app, endpoint)) and len(found) >= count and found,
            timeout,
            f"{count} attempts",
        )
    )


def delivery_status(client: httpx.Client, app: str, msg_id: str) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/app/{app}/msg/{msg_id}/endpoint")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def github_headers(
    secret: str, body: bytes, delivery: str, event: str = "push", content_type: str = "application/json"
) -> dict[str, str]:
    """The headers GitHub sends a webhook with: its event, its delivery id and the body's
    HMAC-SHA256 under the hook's secret (``X-Hub-Signature-256``)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }
