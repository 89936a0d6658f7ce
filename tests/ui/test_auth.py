"""Signing in and out of the dashboard over HTTP: cookies, CSRF, rate limit, expiry, headers."""

import ipaddress
import re

import httpx
import pytest
from click.testing import CliRunner
from tests.support.servers import Hookline, wait_until
from tests.ui.support import csrf_token, signed_in

from hookline.cli import main


@pytest.fixture
def database_url(tmp_path) -> str:
    # These tests exercise the dashboard's own rules, which do not depend on the database.
    return f"sqlite:///{tmp_path}/hookline.db"


def _login(client: httpx.Client, token: str) -> httpx.Response:
    page = client.get("/ui/login")
    return client.post("/ui/login", data={"csrf_token": csrf_token(page.text), "token": token})


def test_admin_token_signs_in_with_a_locked_down_cookie(hookline: Hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        assert client.get("/ui/").headers["location"] == "/ui/login"
        resp = _login(client, "test-admin-token")
        assert resp.status_code == 303
        assert resp.headers["location"] == "/ui/"
        cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("hookline_ui="))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/ui" in cookie
        assert "Max-Age=43200" in cookie  # HOOKLINE_UI_SESSION_HOURS defaults to 12
        assert "Secure" not in cookie  # plain http here; https requests get Secure
        overview = client.get("/ui/")
        assert overview.status_code == 200
        assert "Overview" in overview.text


def test_wrong_and_application_tokens_are_refused(hookline: Hookline) -> None:
    with hookline.client() as api:
        assert api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        app_token = api.post("/api/v1/auth/app-portal-access/acme", json={}).json()["token"]
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        wrong = _login(client, "not-the-token")
        assert wrong.status_code == 401
        assert "That token is not valid." in wrong.text
        scoped = _login(client, app_token)
        assert scoped.status_code == 401
        assert "needs an admin token" in scoped.text
        assert "hookline_ui" not in client.cookies
        assert client.get("/ui/").status_code == 303


def test_a_stored_admin_token_signs_in(hookline: Hookline) -> None:
    made = CliRunner().invoke(main, ["token", "--database-url", hookline.settings.database_url])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1].split()[-1]
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        assert _login(client, token).status_code == 303


def test_forms_without_their_csrf_token_are_refused(hookline: Hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as fresh:
        fresh.get("/ui/login")
        refused = fresh.post("/ui/login", data={"token": "test-admin-token"})
        assert refused.status_code == 403
        assert "security token" in refused.text
        assert "hookline_ui" not in fresh.cookies
    with signed_in(hookline) as (client, token):
        for attempt in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
            resp = client.post("/ui/logout", data=attempt)
            assert resp.status_code == 403, attempt
            assert "This form has expired" in resp.text
        assert client.get("/ui/").status_code == 200  # still signed in
        assert client.post("/ui/logout", headers={"X-CSRF-Token": token}).status_code == 303  # HTMX's way
        assert client.get("/ui/").status_code == 303


def test_logout_ends_the_session_on_the_server(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):
        cookie = client.cookies["hookline_ui"]
        resp = client.post("/ui/logout", data={"csrf_token": token})
        assert resp.status_code == 303
        assert resp.headers["location"] == "/ui/login?out"
        assert "You are signed out." in client.get(resp.headers["location"]).text
    with httpx.Client(base_url=hookline.url, cookies={"hookline_ui": cookie}, timeout=30) as replay:
        assert replay.get("/ui/").status_code == 303  # the old cookie no longer works


def test_no_get_changes_state(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, _):
        assert client.get("/ui/logout").status_code == 404
        assert client.get("/ui/").status_code == 200


def test_failed_logins_are_limited_per_address(hookline: Hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        for _ in range(5):
            assert _login(client, "guess").status_code == 401
        blocked = _login(client, "test-admin-token")  # even the right token waits
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert "Too many sign-in attempts" in blocked.text


def test_sessions_expire_after_the_configured_hours(hookline_factory) -> None:
    with hookline_factory(ui_session_hours=1 / 3600) as hl, signed_in(hl) as (client, _):
        wait_until(lambda: client.get("/ui/").status_code == 303, timeout=10, what="the session to expire")
        assert client.get("/ui/").headers["location"] == "/ui/login"


def test_the_servers_address_opens_the_dashboard(hookline: Hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as browser:
        for method in ("GET", "HEAD"):
            home = browser.request(method, "/")
            assert home.status_code == 303, (method, home.text)
            assert home.headers["location"] == "/ui/"
        landed = browser.get("/", follow_redirects=True)
        assert landed.status_code == 200 and "Sign in" in landed.text


def test_pages_send_security_headers(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, _):
        for path in ("/ui/login", "/ui/", "/ui/missing"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            assert "default-src 'self'" in csp
            # Only the page's own scripts, by nonce (no 'self': capture URLs answer on this origin;
            # no unsafe-inline, no unsafe-eval), and each page a new nonce, on every script tag.
            page = client.get(path)
            if page.status_code == 303:  # signed in, /ui/login sends on to /ui/: no page, no script
                assert "script-src 'none';" in page.headers["content-security-policy"]
                page = client.get(page.headers["location"])
            (nonce,) = re.findall(r"script-src 'nonce-([^']+)';", page.headers["content-security-policy"])
            assert "'self'" not in page.headers["content-security-policy"].split("script-src", 1)[1].split(";")[0]
            assert page.text.count("<script ") == page.text.count(f'<script nonce="{nonce}" ') == 5
            assert nonce not in csp
            assert "frame-ancestors 'none'" in csp
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"
        assert client.get("/ui/static/app.js").headers["x-content-type-options"] == "nosniff"


def test_unknown_range_is_refused_by_name(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, _):
        resp = client.get("/ui/", params={"range": "week"})
        assert resp.status_code == 400
        assert "range parameter must be hour or day" in resp.text
        assert client.get("/ui/", params={"range": "day"}).status_code == 200


@pytest.mark.parametrize(
    "trust", [{"proxy_headers": True}, {"trusted_proxies": (ipaddress.ip_network("127.0.0.1/32"),)}], ids=str
)
def test_the_cookie_is_secure_when_the_request_is_https(hookline_factory, trust: dict) -> None:
    # A reverse proxy on 127.0.0.1 that terminated TLS says so: trusted by HOOKLINE_PROXY_HEADERS
    # (uvicorn) or HOOKLINE_TRUSTED_PROXIES (hookline), the request's scheme is then https.
    with (
        hookline_factory(**trust) as hookline,
        httpx.Client(base_url=hookline.url, headers={"X-Forwarded-Proto": "https"}, timeout=30) as client,
    ):
        page = client.get("/ui/login")
        assert "Secure" in page.headers["set-cookie"]
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        token = csrf_token(page.text)
        # httpx keeps Secure cookies off plain http, so hand the form's cookie back ourselves.
        resp = client.post(
            "/ui/login",
            data={"csrf_token": token, "token": "test-admin-token"},
            headers={"Cookie": f"hookline_ui_login={token}"},
        )
        assert resp.status_code == 303
        cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("hookline_ui="))
        assert "Secure" in cookie
        # Over plain http (the proxy says nothing) there is no HSTS, and no Secure cookie.
        page = httpx.get(f"{hookline.url}/ui/login", timeout=30)
        assert "strict-transport-security" not in page.headers and "Secure" not in page.headers["set-cookie"]


def test_a_session_works_on_every_process_and_is_no_api_token(database_url: str) -> None:
    """Two servers on one database (as ``serve --workers 2`` runs): a session made on one is good
    on the other, ``hookline token revoke`` ends it everywhere, and its cookie is no API token."""
    from tests.support.servers import run_hookline, test_settings

    settings = test_settings(database_url)
    with run_hookline(settings) as first, run_hookline(settings) as second, signed_in(first) as (client, _):
        cookie = client.cookies["hookline_ui"]
        with httpx.Client(base_url=second.url, cookies={"hookline_ui": cookie}, timeout=30) as other:
            assert other.get("/ui/").status_code == 200
            with second.client(cookie) as api:
                assert api.get("/api/v1/app").status_code == 401
            with second.client() as admin:
                listed = admin.get("/api/v1/auth/token").json()["data"]
            [session] = [t for t in listed if t["name"] == "dashboard session"]
            result = CliRunner().invoke(
                main, ["token", "--database-url", database_url, "revoke", session["id"]], catch_exceptions=False
            )
            assert result.exit_code == 0, result.output
            assert other.get("/ui/").status_code == 303
            assert client.get("/ui/").status_code == 303
