"""A tenant's capture URL page, opened in a real Chromium by an operator signed in to the
dashboard: it is served on the dashboard's origin, so a script in it would act with the
operator's session (read the pages, their CSRF tokens, and post the forms)."""

from collections.abc import Callable

import pytest
from tests.support.servers import Hookline
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_browser import sign_in

pytestmark = needs_chromium

PAGE = (
    "<h1 id=thanks>Thanks</h1>"
    "<script>document.title = 'ran'; fetch('/ui/').then(r => { document.title = 'read ' + r.status })</script>"
)


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/hookline.db"


def tenant_capture_url(hookline: Hookline, content_type: str, body: str) -> str:
    """The path of a capture URL a tenant (a portal link's token) made to answer ``body``."""
    with hookline.client() as admin:
        app = admin.post("/api/v1/app", json={"name": "tenant"}).json()
        tenant = admin.post(f"/api/v1/auth/app-portal-access/{app['id']}", json={}).json()["token"]
    with hookline.client(tenant) as api:
        made = api.post("/api/v1/inspect", json={"response": {"contentType": content_type, "body": body}})
        assert made.status_code == 201, made.text
    return "/i/" + made.json()["url"].rsplit("/i/", 1)[1]


def test_a_tenants_page_runs_no_script_in_the_operators_browser(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    path = tenant_capture_url(hookline, "text/html", PAGE)
    watched = open_page()
    sign_in(watched, hookline)
    page = watched.page
    assert page.url.endswith("/ui/")
    page.goto(hookline.url + path)
    page.wait_for_load_state("load")
    assert page.locator("#thanks").inner_text() == "Thanks"  # the page itself is shown
    # The script's first statement runs as the page is parsed, if the page may run scripts.
    assert page.title() == ""
    assert watched.dialogs == []


def test_a_dashboard_page_runs_no_script_a_capture_url_serves(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    # Capture URLs are on the dashboard's origin and may answer application/javascript: were
    # some text ever to slip into a page unescaped, script-src 'self' would let it load one.
    path = tenant_capture_url(hookline, "application/javascript", "document.title = 'ran'")
    watched = open_page()
    sign_in(watched, hookline)
    page = watched.page
    title = page.title()
    outcome = page.evaluate(
        """src => new Promise(done => {
            const tag = document.createElement('script');
            tag.src = src;
            tag.onload = () => done('loaded');
            tag.onerror = () => done('refused');
            document.head.appendChild(tag);
        })""",
        path,
    )
    assert outcome == "refused" and page.title() == title
