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
