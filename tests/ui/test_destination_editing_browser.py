"""Editing a destination on screen, in a real Chromium: the Edit form opens with what is stored,
a refused edit comes back open with the sentence under the field and the field focused, and a
saved one shows on the page; at phone width nothing runs off the side."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.servers import Hookline, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import scroll_width, sign_in

pytestmark = needs_chromium
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui-destinations") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


@pytest.mark.parametrize("width", [1280, 390])
def test_an_operator_edits_a_destination_on_screen(
    hookline: Hookline, open_page: Callable[..., Watched], width: int
) -> None:
    with hookline.client() as admin:
        body = {
            "name": "GitHub",
            "type": "github",
            "config": {},
            "destinations": [{"url": "https://crm.example.org/in"}],
        }
        made = admin.post("/ingest/api/v1/source", json=body)
        assert made.status_code == 201, made.text
        source = made.json()
        [dest] = admin.get(f"/ingest/api/v1/source/{source['id']}/endpoint").json()["data"]
    ed = f"#dest-{dest['id']}"
    watched = open_page(width=width)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/sources/{source['id']}")
    assert not page.is_visible(f"{ed}-url")
    page.get_by_test_id("edit-destination").locator("summary").click()
    assert page.input_value(f"{ed}-url") == "https://crm.example.org/in"
    assert page.is_checked(f"{ed}-path") and not page.is_checked(f"{ed}-disabled")
    assert scroll_width(watched) <= width

    page.fill(f"{ed}-description", HOSTILE)
    page.fill(f"{ed}-throttle", "fast")
    page.uncheck(f"{ed}-path")
    page.get_by_role("button", name="Save destination").click()
    page.wait_for_selector("[data-testid=form-alert]")
    assert page.inner_text(f"{ed}-throttle-error") == (
        "The throttle must be a whole number of messages per second; leave it empty for no limit."
    )
    assert page.evaluate("document.activeElement.id") == f"dest-{dest['id']}-throttle"
    assert page.input_value(f"{ed}-description") == HOSTILE and not page.is_checked(f"{ed}-path")
    assert scroll_width(watched) <= width

    page.fill(f"{ed}-throttle", "20")
    page.get_by_role("button", name="Save destination").click()
    page.wait_for_url(f"**/ui/sources/{source['id']}#destination-{dest['id']}")
    settings = page.get_by_test_id("destination").locator("dl.settings").inner_text()
    assert HOSTILE in settings and "20 per second" in settings and "not forwarded" in settings
    assert watched.errors == [] and watched.dialogs == []
