"""Making and revoking an API token on screen, in a real Chromium: the new token shows once with
a working Copy button (Alpine under the page's CSP), the list never shows it again, and a
revoke asks first; the page fits a phone."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from tests.support.servers import Hookline, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import sign_in

pytestmark = needs_chromium
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui-tokens") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def test_an_operator_makes_copies_and_revokes_a_token_on_screen(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/ui/tokens")
    page.fill("#token-name", f"deploys {HOSTILE}")
    page.select_option("#token-access", "admin")
    page.select_option("#token-expires", "7d")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_selector("[data-testid=token-created]")
    token = page.get_by_test_id("new-token").inner_text().strip()
    assert token.startswith("hl_")
    assert "it will not be shown again" in page.get_by_test_id("token-created").inner_text()
    copy = page.get_by_test_id("copy-token")
    assert copy.is_visible()  # Alpine (CSP build) runs the button
    copy.click()
    # Copied, or selected for Ctrl+C where the clipboard is refused. Waited for by Playwright's own
    # script: a predicate evaluated in the page is refused by its CSP (no eval).
    expect(copy).not_to_have_text(re.compile(r"^Copy"))
    assert page.url.endswith("/ui/tokens?show=api") and token not in page.url
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{hookline.url}/api/v1/app", headers=headers, timeout=30).status_code == 200

    # A reload shows the list, not the form's answer again: no second token, and the first one
    # is not shown again.
    page.reload()
    page.wait_for_selector("[data-testid=token]")
    assert token not in page.content()
    assert page.get_by_test_id("token").filter(has_text="deploys").count() == 1
    assert page.get_by_test_id("token-created").count() == 0

    page.goto(f"{hookline.url}/ui/tokens")
    assert token not in page.content()
    row = page.get_by_test_id("token").filter(has_text="deploys")
    assert row.get_by_test_id("token-name").inner_text() == f"deploys {HOSTILE}"  # as text
    row.get_by_text("Revoke…").click()  # a confirmation opens; nothing is revoked yet
    assert httpx.get(f"{hookline.url}/api/v1/app", headers=headers, timeout=30).status_code == 200
    row.get_by_role("button", name="Revoke “deploys").click()
    page.wait_for_selector("[data-testid=revoked]")
    assert page.get_by_test_id("token").filter(has_text="deploys").get_by_text("revoked", exact=True).is_visible()
    assert httpx.get(f"{hookline.url}/api/v1/app", headers=headers, timeout=30).status_code == 401
    assert watched.dialogs == []  # nothing typed ran
    assert watched.errors == []  # no CSP violation, no script error


def test_the_tokens_page_fits_a_phone(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    watched = open_page(width=390)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/tokens")
    page.fill("#token-name", "a phone's token")
    page.select_option("#token-access", "admin")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_selector("[data-testid=token-created]")
    assert page.get_by_test_id("copy-token").is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert watched.errors == []
