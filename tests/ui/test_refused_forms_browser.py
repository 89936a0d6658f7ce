"""Refused forms in a real Chromium: what was typed is still in the fields, the message sits under
the field it is about, the page focuses that field, and nothing typed runs."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.servers import Hookline, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import sign_in

pytestmark = needs_chromium
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui-forms") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def message_under(watched: Watched, field_id: str) -> str:
    """The message the field points at (aria-describedby), which must follow it on the page."""
    page = watched.page
    described = page.get_attribute(f"#{field_id}", "aria-describedby")
    assert described == f"{field_id}-error"
    assert page.get_attribute(f"#{field_id}", "aria-invalid") == "true"
    below = page.evaluate(
        "([f, m]) => document.getElementById(f).compareDocumentPosition(document.getElementById(m))",
        [field_id, described],
    )
    assert below & 4, "the message is not after its field"  # DOCUMENT_POSITION_FOLLOWING
    return str(page.inner_text(f"#{described}"))


def focused(watched: Watched) -> str:
    return str(watched.page.evaluate("document.activeElement && document.activeElement.id"))


def test_refused_forms_keep_what_was_typed_and_say_what_to_change(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/apps")
    page.fill("#app-name", f"Acme {HOSTILE}")
    page.fill("#app-uid", "acme corp")
    page.get_by_role("button", name="Create application").click()
    page.wait_for_selector("[data-testid=form-alert]")
    assert page.input_value("#app-name") == f"Acme {HOSTILE}"
    assert page.input_value("#app-uid") == "acme corp"
    assert message_under(watched, "app-uid") == (
        "Your own id may use letters, digits, '-', '_' and '.', up to 256 characters, not only dots."
    )
    assert focused(watched) == "app-uid"  # typing goes straight into the field to put right

    page.fill("#app-uid", "acme")
    page.get_by_role("button", name="Create application").click()
    page.wait_for_selector("#ep-url")
    page.fill("#ep-url", "https://hooks.example/in")
    page.fill("#ep-description", HOSTILE)
    page.fill("#ep-types", "donation.created, bad type!")
    page.get_by_role("button", name="Add endpoint").click()
    page.wait_for_selector("[data-testid=form-alert]")
    assert page.input_value("#ep-url") == "https://hooks.example/in"
    assert page.input_value("#ep-description") == HOSTILE
    assert page.input_value("#ep-types") == "donation.created, bad type!"
    assert message_under(watched, "ep-types") == (
        "Event type names may use letters, digits, '-', '_' and '.'; “bad type!” does not."
    )
    assert focused(watched) == "ep-types"

    page.fill("#ep-types", "donation.created")
    page.get_by_role("button", name="Add endpoint").click()
    page.wait_for_selector("[data-testid=endpoint-url]")
    page.fill("#edit-headers", "X-Team: donations\nX Bad: 1")
    page.get_by_role("button", name="Save headers").click()
    page.wait_for_selector("#edit-headers-error")
    assert page.input_value("#edit-headers") == "X-Team: donations\nX Bad: 1"
    assert "“X Bad” does not" in message_under(watched, "edit-headers")
    # The form is far down the page: it is focused and in view, not left below the fold.
    assert focused(watched) == "edit-headers"
    assert page.evaluate("document.getElementById('edit-headers').getBoundingClientRect().top") < 900
    # The other forms still show what is stored.
    assert page.input_value("#edit-url") == "https://hooks.example/in"

    page.fill("#edit-throttle", "0")
    page.fill("#edit-channels", "eu west")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("#edit-throttle-error")
    assert message_under(watched, "edit-channels") == (
        "Channel names may use letters, digits, '-', '_' and '.'; “eu west” does not."
    )
    assert message_under(watched, "edit-throttle") == "The throttle must be at least 1; leave it empty for no limit."
    assert page.input_value("#edit-throttle") == "0" and page.input_value("#edit-channels") == "eu west"
    assert focused(watched) == "edit-channels"

    assert watched.dialogs == []  # nothing typed ran
    assert watched.errors == []


def test_a_refused_form_fits_a_phone(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    watched = open_page(width=390)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/apps")
    page.fill("#app-name", "Globex")
    page.fill("#app-uid", "x" * 300)
    page.get_by_role("button", name="Create application").click()
    page.wait_for_selector("#app-uid-error")
    assert "at most 256" not in page.inner_text("#app-uid-error")  # the uid rule, said once, in words
    assert "up to 256 characters" in page.inner_text("#app-uid-error")
    assert watched.page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert watched.dialogs == [] and watched.errors == []
