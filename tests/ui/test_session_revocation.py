"""A dashboard session lasts no longer than the admin token it was opened with: revoked through
the API, expired, or replaced by HOOKLINE_ADMIN_TOKEN at a restart, the next page goes to
sign-in. On SQLite and PostgreSQL (the check is one query joining the session to its token)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import httpx
import pytest
from tests.support.servers import ADMIN_TOKEN, Hookline, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.support import csrf_token, signed_in

from hookline.store import tokens as store
from hookline.store.database import Conn, Database, now_ms

T = TypeVar("T")


def _sign_in(hookline: Hookline, token: str) -> str:
    """The session cookie signing in with ``token`` gives."""
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        login = client.get("/ui/login")
        resp = client.post("/ui/login", data={"csrf_token": csrf_token(login.text), "token": token})
        assert resp.status_code == 303, resp.text
        return str(client.cookies["hookline_ui"])


def _page(hookline: Hookline, cookie: str, path: str = "/ui/apps", **headers: str) -> httpx.Response:
    with httpx.Client(base_url=hookline.url, cookies={"hookline_ui": cookie}, timeout=30) as client:
        return client.get(path, headers=headers)


def _signed_out(resp: httpx.Response) -> bool:
    return resp.status_code == 303 and resp.headers["location"] == "/ui/login"


def _in_database(database_url: str, work: Callable[[Conn], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                return await work(conn)
        finally:
            await db.close()

    return asyncio.run(run())


def test_revoking_the_token_through_the_api_ends_its_sessions(hookline: Hookline) -> None:
    with hookline.client() as api:
        made = api.post("/api/v1/auth/token", json={"name": "operator"})
        assert made.status_code == 201, made.text
    cookie = _sign_in(hookline, made.json()["token"])
    with signed_in(hookline) as (other, _):  # opened with HOOKLINE_ADMIN_TOKEN
        for path in ("/ui/", "/ui/apps", "/ui/event-types"):
            assert _page(hookline, cookie, path).status_code == 200, path
        with hookline.client() as api:
            assert api.delete(f"/api/v1/auth/token/{made.json()['id']}").status_code == 204
        for path in ("/ui/", "/ui/apps", "/ui/event-types", "/ui/apps/nope/"):
            assert _signed_out(_page(hookline, cookie, path)), path
        assert _page(hookline, cookie, "/ui/apps", **{"HX-Request": "true"}).headers["hx-redirect"] == "/ui/login"
        assert other.get("/ui/apps").status_code == 200  # another token's session stays


def test_a_session_ends_when_its_token_expires(hookline: Hookline) -> None:
    url = hookline.settings.database_url
    new = store.NewToken(app_id=None, name="operator", origin="cli", expires_at=now_ms() + 3_600_000)
    made, token = _in_database(url, lambda conn: store.insert_token(conn, new))
    cookie = _sign_in(hookline, token)
    assert _page(hookline, cookie).status_code == 200
    # Its hour has passed (as expire-all with an expiry does it: the stored time moves).
    assert _in_database(url, lambda conn: store.expire_by(conn, [made.id], now_ms() - 1)) == 1
    assert _signed_out(_page(hookline, cookie))


def test_setting_the_admin_token_ends_the_sessions_of_the_generated_one(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(database_url)
    with run_hookline(replace(settings, admin_token=None), run_engine=False) as first:
        printed = capsys.readouterr().err
        [generated] = [line.strip() for line in printed.splitlines() if line.strip().startswith("hl_")]
        cookie = _sign_in(first, generated)
        assert _page(first, cookie).status_code == 200
    # The operator sets HOOKLINE_ADMIN_TOKEN and restarts.
    with run_hookline(settings, run_engine=False) as second:
        assert "revoked the generated admin token" in capsys.readouterr().err
        assert _signed_out(_page(second, cookie))
        with_setting = _sign_in(second, ADMIN_TOKEN)
        assert _page(second, with_setting).status_code == 200
    # A restart with the same setting keeps that session; a changed setting ends it.
    with run_hookline(settings, run_engine=False) as same:
        assert _page(same, with_setting).status_code == 200
    with run_hookline(replace(settings, admin_token="another-admin-token"), run_engine=False) as changed:
        assert _signed_out(_page(changed, with_setting))
