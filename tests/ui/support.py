"""Signing in to the dashboard over plain HTTP, for tests that need no browser."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from tests.support.servers import ADMIN_TOKEN, Hookline

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextmanager
def signed_in(hookline: Hookline, token: str = ADMIN_TOKEN) -> Iterator[tuple[httpx.Client, str]]:
    """A client holding a dashboard session, and the session's CSRF token."""
    with httpx.Client(base_url=hookline.url, timeout=30) as client:
        login = client.get("/ui/login")
        resp = client.post("/ui/login", data={"csrf_token": csrf_token(login.text), "token": token})
        assert resp.status_code == 303, resp.text
        overview = client.get("/ui/")
        assert overview.status_code == 200
        yield client, csrf_token(overview.text)


def portal_link(api: httpx.Client, app: str, **body: object) -> str:
    """A magic link from app-portal-access (Svix's call), as the tenant's browser gets it."""
    resp = api.post(f"/api/v1/auth/app-portal-access/{app}", json=body)
    assert resp.status_code == 200, resp.text
    url = str(resp.json()["url"])
    assert "/portal/open#link=" in url
    return url


def open_portal(client: httpx.Client, url: str) -> httpx.Response:
    """What the portal's opening page does in a browser: post the fragment's link with the form's token."""
    page = client.get(url.split("#", 1)[0])
    assert page.status_code == 200, page.text
    link = url.split("#link=", 1)[1]
    return client.post("/portal/open", data={"csrf_token": csrf_token(page.text), "link": link, "theme": ""})
