"""Tokens expire and can be revoked (issue: close the holes, item 2; Svix SDK parity: authentication).

Real servers, real portal tokens minted through the API, on SQLite and PostgreSQL.
"""

import asyncio
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver

from hookline.runtime import ensure_admin_token
from hookline.services import tokens
from hookline.store import tokens as store
from hookline.store.database import Database, now_ms

DAY = 86400


def _portal(admin: httpx.Client, app: str, **body: Any) -> str:
    resp = admin.post(f"/api/v1/auth/app-portal-access/{app}", json=body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def _status(hl: Any, token: str, method: str, path: str, json: Any = None) -> int:
    with hl.client(token) as c:
        return c.request(method, path, json=json).status_code


def _refused(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "detail"}
    if field is not None:
        assert [item["loc"][-1] for item in body["detail"]] == [field], body


def _listed(admin: httpx.Client) -> dict[str, dict[str, Any]]:
    resp = admin.get("/api/v1/auth/token", params={"limit": 250})
    assert resp.status_code == 200, resp.text
    return {t["id"]: t for t in resp.json()["data"]}


def _in_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() - time.time()


def test_portal_access_expiry_session_and_bounds(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        make_endpoint(admin, receiver.url())
        # Svix's bounds: 1 hour to 7 days, in seconds; anything else is refused, naming the field.
        for expiry in (3599, 7 * DAY + 1, 0, -5):
            _refused(admin.post("/api/v1/auth/app-portal-access/acme", json={"expiry": expiry}), 422, "expiry")
        _refused(admin.post("/api/v1/auth/app-portal-access/acme", json={"capabilities": ["Root"]}), 422)
        _portal(admin, "acme")
        _portal(admin, "acme", expiry=3600, sessionId="s-1", readOnly=True, capabilities=["ViewEndpointSecret"])
        portal = [t for t in _listed(admin).values() if t["origin"] == "portal"]
        assert len(portal) == 2
        default, short = sorted(portal, key=lambda t: t["expiresAt"], reverse=True)
        assert 7 * DAY - 60 < _in_seconds(default["expiresAt"]) <= 7 * DAY
        assert default["sessionId"] is None and default["capabilities"] is None and not default["readOnly"]
        assert 3600 - 60 < _in_seconds(short["expiresAt"]) <= 3600
        assert short["sessionId"] == "s-1" and short["readOnly"]
        assert short["capabilities"] == ["ViewBase", "ViewEndpointSecret"]
        # Never a token's value or hash in a listing.
        assert all("token" not in t and len(t) == 11 for t in portal)


def test_read_only_and_capabilities_limit_what_a_portal_token_may_do(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        _, ep = make_endpoint(admin, receiver.url())
        msg = publish(admin, "acme")
    app = "/api/v1/app/acme"
    endpoint = f"{app}/endpoint/{ep}"
    new_endpoint = {"url": receiver.url("/new")}
    since = {"since": "2020-01-01T00:00:00Z"}
    with hookline.client() as admin:
        full = _portal(admin, "acme")
        read_only = _portal(admin, "acme", readOnly=True)
        view = _portal(admin, "acme", capabilities=["ViewBase"])
        secret_view = _portal(admin, "acme", capabilities=["ViewBase", "ViewEndpointSecret"])
        secret_manage = _portal(admin, "acme", capabilities=["ViewBase", "ManageEndpointSecret"])
        manage = _portal(admin, "acme", capabilities=["ViewBase", "ManageEndpoint"])
        attempts = _portal(admin, "acme", capabilities=["ViewBase", "CreateAttempts"])

    # Without capabilities: the whole application, as before.
    assert _status(hookline, full, "POST", f"{app}/endpoint", new_endpoint) == 201
    assert _status(hookline, full, "GET", f"{endpoint}/secret") == 200

    # Read-only (Svix's ViewBase alone): every read but the signing secret works, every write is refused.
    assert _status(hookline, read_only, "GET", endpoint) == 200
    assert _status(hookline, read_only, "GET", f"{endpoint}/secret") == 403
    for method, path, body in [
        ("POST", f"{app}/endpoint", new_endpoint),
        ("PATCH", endpoint, {"description": "x"}),
        ("DELETE", endpoint, None),
        ("PATCH", app, {"name": "x"}),
        ("POST", f"{app}/msg", {"eventType": "a.b", "payload": {}}),
        ("POST", f"{endpoint}/secret/rotate", {}),
        ("POST", f"{endpoint}/recover", since),
    ]:
        with hookline.client(read_only) as c:
            resp = c.request(method, path, json=body)
        assert resp.status_code == 403 and "read-only" in resp.json()["detail"], (method, path, resp.text)

    # ViewBase alone reads, but not the secret, and changes nothing.
    assert _status(hookline, view, "GET", endpoint) == 200
    assert _status(hookline, view, "GET", f"{app}/msg/{msg}") == 200
    for method, path, body in [
        ("GET", f"{endpoint}/secret", None),
        ("POST", f"{endpoint}/secret/rotate", {}),
        ("POST", f"{app}/endpoint", new_endpoint),
        ("PUT", f"{endpoint}/headers", {"headers": {"x-a": "1"}}),
        ("POST", f"{app}/msg/{msg}/endpoint/{ep}/resend", None),
        ("POST", f"{endpoint}/recover", since),
        ("POST", f"{app}/msg", {"eventType": "a.b", "payload": {}}),  # publishing is no portal capability
        ("PATCH", app, {"name": "x"}),
    ]:
        assert _status(hookline, view, method, path, body) == 403, (method, path)

    assert _status(hookline, secret_view, "GET", f"{endpoint}/secret") == 200
    assert _status(hookline, secret_view, "POST", f"{endpoint}/secret/rotate", {}) == 403
    assert _status(hookline, secret_manage, "POST", f"{endpoint}/secret/rotate", {}) == 200
    assert _status(hookline, secret_manage, "POST", f"{app}/endpoint", new_endpoint) == 403
    assert _status(hookline, manage, "PUT", f"{endpoint}/headers", {"headers": {"x-a": "1"}}) in (200, 204)
    assert _status(hookline, manage, "POST", f"{app}/endpoint", new_endpoint) == 201
    assert _status(hookline, manage, "POST", f"{endpoint}/recover", since) == 403
    assert _status(hookline, attempts, "POST", f"{endpoint}/recover", since) == 202
    assert _status(hookline, attempts, "POST", f"{app}/msg/{msg}/endpoint/{ep}/resend") == 202
    assert _status(hookline, attempts, "DELETE", endpoint) == 403


def test_expire_all_by_session_and_logout(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        make_endpoint(admin, receiver.url())
        a1 = _portal(admin, "acme", sessionId="a")
        a2 = _portal(admin, "acme", sessionId="a")
        b = _portal(admin, "acme", sessionId="b")
        plain = _portal(admin, "acme")
        made = admin.post("/api/v1/auth/token", json={"appId": "acme", "name": "tenant key"})
        assert made.status_code == 201, made.text
        on_purpose = made.json()["token"]
    for token in (a1, a2, b, plain, on_purpose):  # used once: now in the server's token cache
        assert _status(hookline, token, "GET", "/api/v1/app/acme") == 200

    with hookline.client() as admin:
        _refused(admin.post("/api/v1/auth/app/acme/expire-all", json={"expiry": 8 * DAY}), 422, "expiry")
        _refused(admin.post("/api/v1/auth/app/nope/expire-all", json={}), 404)
        with hookline.client(b) as tenant:
            _refused(tenant.post("/api/v1/auth/app/acme/expire-all", json={}), 403)
        assert admin.post("/api/v1/auth/app/acme/expire-all", json={"sessionIds": ["a"]}).status_code == 204
    assert _status(hookline, a1, "GET", "/api/v1/app/acme") == 401
    assert _status(hookline, a2, "GET", "/api/v1/app/acme") == 401
    assert _status(hookline, b, "GET", "/api/v1/app/acme") == 200

    with hookline.client() as admin:
        # With expiry: they keep working until then.
        assert admin.post("/api/v1/auth/app/acme/expire-all", json={"expiry": 600}).status_code == 204
        listed = _listed(admin).values()
        ending = [t for t in listed if t["origin"] == "portal" and t["revokedAt"] is None]
        assert len(ending) == 2 and all(0 < _in_seconds(t["expiresAt"]) <= 600 for t in ending)
        assert _status(hookline, b, "GET", "/api/v1/app/acme") == 200
        assert admin.post("/api/v1/auth/app/acme/expire-all", json={}).status_code == 204
    for token in (b, plain):
        assert _status(hookline, token, "GET", "/api/v1/app/acme") == 401
    # A token made on purpose for the application is not a portal session's.
    assert _status(hookline, on_purpose, "GET", "/api/v1/app/acme") == 200

    # Logout revokes the calling token, at once, and nothing else.
    with hookline.client() as admin:
        mine, other = _portal(admin, "acme"), _portal(admin, "acme")
    with hookline.client(mine) as tenant:
        assert tenant.get("/api/v1/app/acme").status_code == 200
        assert tenant.post("/api/v1/auth/logout").status_code == 204
        resp = tenant.get("/api/v1/app/acme")
        assert resp.status_code == 401 and resp.json()["code"] == "authentication_failed"
    assert _status(hookline, other, "GET", "/api/v1/app/acme") == 200
    # A read-only portal token may log out too.
    with hookline.client() as admin:
        viewer = _portal(admin, "acme", readOnly=True, capabilities=["ViewBase"])
    assert _status(hookline, viewer, "POST", "/api/v1/auth/logout") == 204
    assert _status(hookline, viewer, "GET", "/api/v1/app/acme") == 401
    # HOOKLINE_ADMIN_TOKEN lives in the settings: logging it out is refused, not ignored.
    with hookline.client() as admin:
        _refused(admin.post("/api/v1/auth/logout"), 409)
        assert admin.get("/api/v1/app").status_code == 200


def test_admin_tokens_by_api(hookline) -> None:
    with hookline.client() as admin:
        _refused(admin.post("/api/v1/auth/token", json={"expiry": 10}), 422, "expiry")
        _refused(admin.post("/api/v1/auth/token", json={"appId": "missing"}), 404)
        made = admin.post("/api/v1/auth/token", json={"name": "deploy", "expiry": 30 * DAY})
        assert made.status_code == 201, made.text
        created = made.json()
        assert created["token"].startswith("hl_") and created["appId"] is None and created["origin"] == "api"
        assert 30 * DAY - 60 < _in_seconds(created["expiresAt"]) <= 30 * DAY
    with hookline.client(created["token"]) as deploy:
        assert deploy.get("/api/v1/app").status_code == 200  # an admin token
        assert deploy.post("/api/v1/app", json={"name": "x", "uid": "x"}).status_code == 201
    with hookline.client() as admin:
        listed = _listed(admin)[created["id"]]
        assert "token" not in listed and created["token"] not in str(_listed(admin))
        assert listed["name"] == "deploy" and listed["revokedAt"] is None
        portal = _portal(admin, "x")
        with hookline.client(portal) as tenant:
            for method, path in [("GET", "/api/v1/auth/token"), ("POST", "/api/v1/auth/token")]:
                _refused(tenant.request(method, path, json={}), 403)
            _refused(tenant.delete(f"/api/v1/auth/token/{created['id']}"), 403)
        _refused(admin.delete("/api/v1/auth/token/tok_missing"), 404)
        assert admin.delete(f"/api/v1/auth/token/{created['id']}").status_code == 204
        assert _listed(admin)[created["id"]]["revokedAt"] is not None
    with hookline.client(created["token"]) as deploy:
        _refused(deploy.get("/api/v1/app"), 401)


def _insert(database_url: str, **fields: Any) -> str:
    async def run() -> str:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                _, token = await store.insert_token(conn, store.NewToken(name="t", origin="cli", **fields))
                return token
        finally:
            await db.close()

    return str(asyncio.run(run()))


def test_expired_tokens_are_refused_even_from_the_cache(hookline) -> None:
    expired = _insert(hookline.settings.database_url, app_id=None, expires_at=now_ms() - 1)
    with hookline.client(expired) as c:
        resp = c.get("/api/v1/app")
        assert resp.status_code == 401 and "expired" in resp.json()["detail"]
    soon = _insert(hookline.settings.database_url, app_id=None, expires_at=now_ms() + 1500)
    with hookline.client(soon) as c:
        assert c.get("/api/v1/app").status_code == 200  # cached from here on
        time.sleep(1.6)
        assert c.get("/api/v1/app").status_code == 401


def test_admin_token_setting_replaces_the_generated_token(hookline_factory, capsys: pytest.CaptureFixture[str]) -> None:
    with hookline_factory() as hl:
        settings = hl.settings
    no_admin = replace(settings, admin_token=None)

    async def first_start() -> str:
        db = Database(settings.database_url)
        try:
            await ensure_admin_token(db, no_admin)  # what a first start without HOOKLINE_ADMIN_TOKEN does
            printed = capsys.readouterr().err
            _, value = await tokens.create_token(db, app=None, name="ci", expires_in=None, origin="cli")
            return printed + "\n" + value
        finally:
            await db.close()

    printed, on_purpose = asyncio.run(first_start()).rsplit("\n", 1)
    [generated] = [line.strip() for line in printed.splitlines() if line.strip().startswith("hl_")]

    # The operator now sets HOOKLINE_ADMIN_TOKEN and restarts.
    with hookline_factory() as hl:
        assert "revoked the generated admin token" in capsys.readouterr().err
        with hl.client(generated) as c:
            _refused(c.get("/api/v1/app"), 401)
        with hl.client(on_purpose) as c:  # made on purpose: kept
            assert c.get("/api/v1/app").status_code == 200
        with hl.client() as admin:
            assert admin.get("/api/v1/app").status_code == 200
            origins = {t["origin"]: t for t in _listed(admin).values()}
            assert origins["generated"]["revokedAt"] is not None and origins["cli"]["revokedAt"] is None

    # And a start without it, now that a working admin token exists, generates none.
    async def restart_without() -> None:
        db = Database(settings.database_url)
        try:
            await ensure_admin_token(db, no_admin)
        finally:
            await db.close()

    asyncio.run(restart_without())
    assert "generated admin token" not in capsys.readouterr().err


def test_a_tokens_last_use_is_kept_to_the_minute(hookline) -> None:
    with hookline.client() as admin:
        made = admin.post("/api/v1/auth/token", json={"name": "deploy"}).json()
        assert admin.post("/api/v1/app", json={"name": "a", "uid": "acme-lastused"}).status_code == 201
        portal = _portal(admin, "acme-lastused")
        unused = admin.post("/api/v1/auth/token", json={"name": "spare"}).json()
        listed = _listed(admin)
        assert listed[made["id"]]["lastUsedAt"] is None and listed[unused["id"]]["lastUsedAt"] is None
    before = now_ms()
    with hookline.client(made["token"]) as deploy:
        assert deploy.get("/api/v1/app").status_code == 200
    with hookline.client(portal) as tenant:
        assert tenant.get("/api/v1/app/acme-lastused/endpoint").status_code == 200
    with hookline.client() as admin:  # HOOKLINE_ADMIN_TOKEN: a setting, not a stored token
        listed = _listed(admin)
        used = datetime.fromisoformat(listed[made["id"]]["lastUsedAt"]).timestamp() * 1000
        assert before - 1000 <= used <= now_ms()
        portal_tokens = [t for t in listed.values() if t["origin"] == "portal"]
        assert [t["lastUsedAt"] is not None for t in portal_tokens] == [True]
        assert listed[unused["id"]]["lastUsedAt"] is None

    # Kept to the minute: used again within it, the stored time stays (no write per request).
    async def stored_last_use(token_id: str) -> int | None:
        db = Database(hookline.settings.database_url)
        try:
            async with db.read() as conn:
                found = await store.find(conn, token_id)
                return None if found is None else found.last_used_at
        finally:
            await db.close()

    first = asyncio.run(stored_last_use(made["id"]))
    hookline.app.state.token_cache.clear()  # the next request reads the token again
    with hookline.client(made["token"]) as deploy:
        assert deploy.get("/api/v1/app").status_code == 200
    assert asyncio.run(stored_last_use(made["id"])) == first
