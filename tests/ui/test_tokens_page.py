"""The API tokens page over HTTP, as the operator posts it: a token made there works against the
API (held to its application when it is one's), is shown once and never again, and stops working
when revoked there; a change without the page's CSRF token, or from a portal session, is refused."""

import re
from pathlib import Path

import httpx
import pytest
from tests.support.servers import Hookline
from tests.ui.support import open_portal, portal_link, signed_in

from hookline.services.tokens import hash_token

_TOKEN = re.compile(r"hl_[A-Za-z0-9_-]{20,}")
HOSTILE = '<b>"ci"</b>'


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # SQLite, but for the test asking for PostgreSQL too: the page calls the API's use-cases,
    # whose storage runs on both databases elsewhere.
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    return f"sqlite:///{tmp_path}/hookline.db"


def _make(client: httpx.Client, csrf: str, **fields: str) -> httpx.Response:
    return client.post("/ui/tokens", data={"csrf_token": csrf, "expires": "1d", **fields})


def _made(resp: httpx.Response) -> str:
    """The token a create answer shows, checking that it shows it exactly once."""
    assert resp.status_code == 200, resp.text
    found = _TOKEN.findall(resp.text)
    assert len(found) == 1, found
    assert "it will not be shown again" in resp.text
    return str(found[0])


def _token_ids(api: httpx.Client) -> list[str]:
    return [t["id"] for t in api.get("/api/v1/auth/token", params={"limit": 250}).json()["data"]]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_token_made_on_the_page_is_shown_once_works_and_stops_when_revoked(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, csrf):
        listed = client.get("/ui/tokens")
        assert listed.status_code == 200
        assert '<a href="/ui/tokens" aria-current="page">API tokens</a>' in listed.text
        made = _make(client, csrf, name=HOSTILE, access="admin")
        token = _made(made)
        assert "&lt;b&gt;&#34;ci&#34;&lt;/b&gt;" in made.text and HOSTILE not in made.text
        assert '<dd data-testid="token-last-used">never</dd>' in client.get("/ui/tokens").text
        with hookline.client(token) as api:
            assert api.get("/api/v1/app").status_code == 200  # an admin token
        [stored] = [t for t in hookline.client().get("/api/v1/auth/token").json()["data"] if t["name"] == HOSTILE]
        assert stored["appId"] is None and stored["origin"] == "api" and stored["expiresAt"] is not None

        # Never again: not on the list, not as its hash.
        again = client.get("/ui/tokens")
        assert token not in again.text and hash_token(token) not in again.text
        assert _TOKEN.findall(again.text) == []
        assert stored["id"] in again.text and "&lt;b&gt;&#34;ci&#34;&lt;/b&gt;" in again.text
        assert stored["lastUsedAt"] is not None
        assert re.search(r'<dd data-testid="token-last-used">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</dd>', again.text)

        revoked = client.post(f"/ui/tokens/{stored['id']}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 303
        assert revoked.headers["location"] == f"/ui/tokens?show=api&revoked={stored['id']}"
        after = client.get(revoked.headers["location"])
        assert "this server refuses it now" in after.text and token not in after.text
        with hookline.client(token) as api:
            assert api.get("/api/v1/app").status_code == 401


def test_an_application_token_made_on_the_page_reads_its_application_only(hookline: Hookline) -> None:
    with hookline.client() as api:
        acme = api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).json()["id"]
        api.post("/api/v1/app", json={"name": "Globex", "uid": "globex"})
    with signed_in(hookline) as (client, csrf):
        form = client.get("/ui/tokens").text
        assert f'<option value="app:{acme}">Acme (acme)</option>' in form
        token = _made(_make(client, csrf, name="acme reader", access=f"app:{acme}", expires="never"))
        listed = client.get("/ui/tokens").text
        assert f'<a href="/ui/apps/{acme}/">Acme</a> only' in listed
    with hookline.client(token) as api:
        assert api.get("/api/v1/app/acme").status_code == 200
        assert api.get("/api/v1/app/globex").status_code in (403, 404)
        assert [app["uid"] for app in api.get("/api/v1/app").json()["data"]] == ["acme"]
        assert api.get("/api/v1/auth/token").status_code == 403  # so is making more tokens
    [stored] = [t for t in hookline.client().get("/api/v1/auth/token").json()["data"] if t["name"] == "acme reader"]
    assert stored["appId"] == acme and stored["expiresAt"] is None


def test_a_refused_token_form_keeps_what_was_typed_and_makes_nothing(hookline: Hookline) -> None:
    with hookline.client() as api, signed_in(hookline) as (client, csrf):
        before = _token_ids(api)
        cases = [
            ({"name": " ", "access": "admin"}, "token-name-error", "Name is required."),
            ({"name": "x", "access": ""}, "token-access-error", "Choose what the token may reach"),
            ({"name": "x", "access": "app:app_nope"}, "token-access-error", "That application no longer exists"),
            ({"name": "x", "access": "admin", "expires": "forever"}, "token-expires-error", "Choose when the token"),
            ({"name": "a\x00b", "access": "admin"}, "token-name-error", "The name cannot contain a NUL character."),
        ]
        for fields, where, sentence in cases:
            resp = _make(client, csrf, **fields)
            assert resp.status_code == 400, fields
            assert f'id="{where}"' in resp.text and sentence in resp.text, resp.text
            assert _TOKEN.findall(resp.text) == [] and "token-created" not in resp.text
        kept = _make(client, csrf, name="deploys", access="admin", expires="bogus")
        assert 'value="deploys"' in kept.text and '<option value="admin" selected>' in kept.text
        assert _token_ids(api) == before


def test_without_the_pages_csrf_token_nothing_is_made_or_revoked(hookline: Hookline) -> None:
    with hookline.client() as api, signed_in(hookline) as (client, csrf):
        token = _made(_make(client, csrf, name="kept", access="admin"))
        [kept] = [t["id"] for t in api.get("/api/v1/auth/token").json()["data"] if t["name"] == "kept"]
        before = _token_ids(api)
        for data in ({}, {"csrf_token": "forged"}):
            made = client.post("/ui/tokens", data={**data, "name": "sneaky", "access": "admin", "expires": "1d"})
            assert made.status_code == 403 and _TOKEN.findall(made.text) == []
            assert client.post(f"/ui/tokens/{kept}/revoke", data=data).status_code == 403
        assert _token_ids(api) == before
        with hookline.client(token) as own:
            assert own.get("/api/v1/app").status_code == 200
        assert client.post("/ui/tokens/tok_nope/revoke", data={"csrf_token": csrf}).status_code == 404


def test_signed_out_visitors_and_portal_sessions_cannot_reach_the_page(hookline: Hookline) -> None:
    with hookline.client() as api:
        api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        url = portal_link(api, "acme")
        before = _token_ids(api)
    with httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, url).status_code == 303
        assert tenant.get("/portal/").status_code == 200  # signed in to the portal
        for resp in (
            tenant.get("/ui/tokens"),
            tenant.post("/ui/tokens", data={"name": "mine", "access": "admin", "expires": "never"}),
        ):
            assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
        assert "API tokens" not in tenant.get("/portal/").text  # no such page in the portal's menu
    # A portal token where a dashboard session's cookie goes is no session either.
    portal_token = api_token = ""
    with hookline.client() as api:
        portal_token = api.post("/api/v1/auth/app-portal-access/acme", json={}).json()["token"]
        api_token = api.post("/api/v1/auth/token", json={"name": "acme", "appId": "acme"}).json()["token"]
    for stolen in (portal_token, api_token):
        with httpx.Client(base_url=hookline.url, timeout=30, cookies={"hookline_ui": stolen}) as other:
            resp = other.get("/ui/tokens")
            assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
    with hookline.client() as api:
        assert len(_token_ids(api)) == len(before) + 2  # the two made above, none by the page


def test_sign_in_sessions_are_listed_apart_and_the_current_one_is_marked(hookline: Hookline) -> None:
    with hookline.client() as api:
        admin = api.post("/api/v1/auth/token", json={"name": "ops admin"}).json()
    with signed_in(hookline, admin["token"]) as (client, csrf):
        tokens = client.get("/ui/tokens").text
        assert "ops admin" in tokens and "dashboard session" not in tokens
        assert 'data-testid="signed-in-with"' in tokens  # the token this session was opened with
        assert "You signed in with it: this signs you out." in tokens
        sessions = client.get("/ui/tokens", params={"show": "sessions"}).text
        assert "ops admin" not in sessions and "dashboard session" in sessions
        assert sessions.count('data-testid="this-session"') == 1
        assert "Sign out to end this session." in sessions
        assert client.get("/ui/tokens", params={"show": "everything"}).status_code == 400
        # Revoking the token it signed in with ends the session.
        assert client.post(f"/ui/tokens/{admin['id']}/revoke", data={"csrf_token": csrf}).status_code == 303
        gone = client.get("/ui/tokens")
        assert gone.status_code == 303 and gone.headers["location"] == "/ui/login"
