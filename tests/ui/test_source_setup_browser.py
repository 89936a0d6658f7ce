"""Setting up an inbound source on screen, in a real Chromium: the form shows the fields the
chosen provider takes, a refused one keeps what was typed, and the source made shows its ingest
URL, which takes a request that then shows on the page and reaches the destination."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from tests.support.servers import Hookline, Receiver, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import sign_in

pytestmark = needs_chromium
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui-sources") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def test_an_operator_sets_up_a_source_on_screen_and_sees_what_its_url_takes(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="Inbound").click()
    page.fill("#src-name", f"Donations {HOSTILE}")

    # Stripe takes a signing secret, which may wait (the hint says so; not for GitHub, whose
    # secret is optional); a generic webhook a scheme, whose fields show when chosen.
    assert not page.is_visible("#src-secret-later")
    page.select_option("#src-type", "stripe")
    assert page.is_visible("#src-secret") and not page.is_visible("#src-verification")
    assert page.is_visible("#src-secret-later")
    page.select_option("#src-type", "github")
    assert page.is_visible("#src-secret") and not page.is_visible("#src-secret-later")
    # An HMAC scheme's secret is the user's to choose: refused when left empty.
    page.select_option("#src-type", "generic-webhook")
    page.select_option("#src-verification", "hmac")
    assert not page.is_visible("#src-secret-later")
    page.fill("#src-hmac-header", "X-Signature")
    page.fill("#src-destination", receiver.url())
    page.get_by_role("button", name="Create source").click()
    page.wait_for_selector("[data-testid=form-alert]")
    assert page.inner_text("#src-secret-error") == "Signing secret is required."
    assert page.evaluate("document.activeElement.id") == "src-secret"
    assert page.input_value("#src-name") == f"Donations {HOSTILE}"  # kept, as text
    assert page.input_value("#src-type") == "generic-webhook" and page.input_value("#src-destination") == receiver.url()
    assert page.input_value("#src-hmac-header") == "X-Signature"

    assert page.is_visible("#src-verification") and page.is_visible("#src-secret")
    page.select_option("#src-verification", "api-key")
    assert page.is_visible("#src-api-key") and not page.is_visible("#src-hmac-header")
    page.fill("#src-api-key", "k-123")
    page.get_by_role("button", name="Create source").click()
    page.wait_for_url("**/ui/sources/src_*")

    url = page.get_by_test_id("ingest-url").inner_text().strip()
    assert url.startswith(f"{hookline.url}/in/")
    assert page.get_by_test_id("provider-hint").inner_text() == (
        "Paste this into the sender's webhook settings. Give it this URL, and the same secret, credentials or API "
        "key as set here."
    )
    copy = page.get_by_test_id("copy-url")
    assert copy.is_visible()  # Alpine (CSP build) runs the button
    copy.click()
    # Copied, or selected for Ctrl+C where the clipboard is refused. Waited for by Playwright's own
    # script: a predicate evaluated in the page is refused by its CSP (no eval).
    expect(copy).not_to_have_text(re.compile(r"^Copy"))
    assert page.get_by_test_id("destination-url").inner_text() == receiver.url()

    body = b'{"gift": 25, "note": "<b>thanks</b>"}'
    assert httpx.post(url, content=body, headers={"X-API-Key": "wrong"}, timeout=30).status_code == 401
    sent = httpx.post(url, content=body, headers={"X-API-Key": "k-123", "Content-Type": "application/json"}, timeout=30)
    assert sent.status_code == 200, sent.text
    page.reload()
    taken = page.get_by_test_id("received-request")
    assert taken.count() == 2
    assert "accepted" in taken.first.inner_text() and "rejected" in taken.nth(1).inner_text()
    [arrived] = receiver.wait_for(1, timeout=30)
    assert arrived.body == body
    assert watched.dialogs == []  # nothing typed ran
    assert watched.errors == []  # no CSP violation, no script error


def test_a_source_page_fits_a_phone(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    with hookline.client() as admin:
        made = admin.post(
            "/ingest/api/v1/source",
            json={
                "name": "GitHub (monorepo)",
                "type": "github",
                "config": {"secret": "s"},
                "destinations": [{"url": "https://ci.example.org/hooks/github/monorepo", "eventTypes": ["push"]}],
            },
        )
        assert made.status_code == 201, made.text
    watched = open_page(width=390)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/sources/{made.json()['id']}")
    assert page.get_by_test_id("ingest-url").inner_text().strip() == made.json()["ingestUrl"]
    page.get_by_text("Rotate URL…").click()  # a confirmation opens; nothing is rotated yet
    assert page.get_by_role("button", name="Rotate the URL").is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert watched.errors == []
