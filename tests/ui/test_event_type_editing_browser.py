"""Editing the event-type catalogue on screen, in a real Chromium: a refused schema keeps what
was typed with a sentence under the box (focused), the event type made can be edited, archived
behind a confirmation and restored, and the page fits a phone. No script is needed, and none of
what is typed runs."""

import json
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
    path: Path = tmp_path_factory.mktemp("ui-event-types") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def test_an_operator_adds_edits_archives_and_restores_an_event_type_on_screen(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="Event types").first.click()
    page.wait_for_url("**/ui/event-types")
    assert page.is_visible("#new-type-name")  # the catalogue is empty: its form is open
    page.fill("#new-type-name", "invoice.paid")
    page.fill("#new-type-description", f"Paid {HOSTILE}")
    page.fill("#new-type-schema", '{"type": "object", "properties": {"amount": {"type": "integer"}},}')
    page.check("#new-type-deprecated")
    page.get_by_role("button", name="Create event type").click()
    page.wait_for_selector("[data-testid=form-alert]")
    assert page.inner_text("#new-type-schema-error") == (
        "The schema is not valid JSON: expecting property name enclosed in double quotes at line 1, column 66."
    )
    assert page.evaluate("document.activeElement.id") == "new-type-schema"
    assert page.input_value("#new-type-description") == f"Paid {HOSTILE}"  # kept, as text
    assert page.is_checked("#new-type-deprecated")

    schema = {"type": "object", "properties": {"amount": {"type": "integer"}}, "examples": [{"amount": 5}]}
    page.fill("#new-type-schema", json.dumps(schema))
    page.get_by_role("button", name="Create event type").click()
    page.wait_for_url("**/ui/event-types#event-type-invoice.paid")
    card = page.get_by_test_id("event-type")
    assert card.count() == 1 and "deprecated" in card.inner_text()
    assert f"Paid {HOSTILE}" in card.inner_text()
    assert '"amount": 5' in card.locator("pre").first.inner_text()  # the example, from the schema

    card.get_by_text("Edit", exact=True).click()
    assert json.loads(page.input_value("#edit-1-schema")) == schema
    page.fill("#edit-1-description", "An invoice was paid")
    page.uncheck("#edit-1-deprecated")
    page.select_option("#edit-1-validation", "enforce")
    card.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/ui/event-types#event-type-invoice.paid")
    text = page.get_by_test_id("event-type").inner_text()
    assert "An invoice was paid" in text and "deprecated" not in text and "schema: enforce" in text

    page.get_by_text("Archive…").click()  # a confirmation opens; nothing is archived yet
    page.get_by_role("button", name="Archive invoice.paid").click()
    page.wait_for_selector("[data-testid=event-types-empty]")
    assert page.get_by_test_id("event-type").count() == 0
    page.get_by_test_id("archived-toggle").click()
    page.wait_for_url("**/ui/event-types?archived")
    assert "archived" in page.get_by_test_id("event-type").inner_text()
    page.get_by_role("button", name="Restore").click()
    page.wait_for_url("**/ui/event-types?archived#event-type-invoice.paid")
    page.get_by_test_id("archived-toggle").click()
    assert page.get_by_test_id("event-type").count() == 1
    assert watched.dialogs == []  # nothing typed ran
    assert watched.errors == []  # no CSP violation, no script error


def test_the_catalogue_with_an_edit_form_open_fits_a_phone(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    long_name = "order." + "shipped" * 30
    with hookline.client() as api:
        body = {"name": long_name, "description": "x" * 300, "schemas": {"1": {"type": "object"}, "2": {}}}
        assert api.post("/api/v1/event-type", json=body).status_code == 201
    watched = open_page(width=390)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/event-types")
    page.get_by_text("Add an event type").click()
    card = page.locator(f"[id='event-type-{long_name}']")
    card.get_by_text("Edit", exact=True).click()
    assert card.get_by_role("button", name="Save changes").is_visible()
    assert "The other versions (1) are kept as they are." in card.inner_text()
    assert scroll_width(watched) <= 390
    assert watched.errors == []
