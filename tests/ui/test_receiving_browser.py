"""The receiving side's dashboard pages in a real Chromium: an inbound source with what it took
(a rejected request verified again and forwarded), and a capture URL whose list updates live."""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.servers import Hookline, Receiver, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import sign_in

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui-receiving") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def _github(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": "push", "Content-Type": "application/json"}


def test_a_source_shows_what_it_took_and_forwards_a_rejected_request_once_fixed(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as admin:
        made = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {"secret": "old"}})
        assert made.status_code == 201, made.text
        source = made.json()
        assert admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json={"url": receiver.url()}).is_success
        body = json.dumps({"ref": "refs/heads/<b>main</b>"}).encode()
        sent = httpx.post(source["ingestUrl"], content=body, headers=_github(body, "new"), timeout=30)
        assert sent.status_code == 401
        # The secret is fixed; the request that was refused can now be verified again.
        fixed = {"name": "gh", "type": "github", "config": {"secret": "new"}}
        assert admin.put(f"/ingest/api/v1/source/{source['id']}", json=fixed).is_success

    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="Inbound").click()
    page.get_by_role("link", name="gh").click()
    assert page.get_by_test_id("ingest-url").inner_text() == source["ingestUrl"]
    taken = page.get_by_test_id("received-request")
    assert taken.count() == 1 and "rejected" in taken.first.inner_text()
    page.get_by_text("Headers and body").first.click()
    assert "<b>main</b>" in page.get_by_test_id("received-body").first.inner_text()  # shown as text
    page.get_by_role("button", name="Verify again and forward").click()
    page.wait_for_url(f"**/ui/sources/{source['id']}")
    [arrived] = receiver.wait_for(1, timeout=30)
    assert arrived.body == body


def test_a_capture_url_page_shows_new_requests_without_a_reload(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as admin:
        made = admin.post("/api/v1/inspect", json={"name": "try-it"})
        assert made.status_code == 201, made.text
        bin_ = made.json()
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="Capture").click()
    page.get_by_role("link", name="try-it").click()
    url = page.url
    assert page.get_by_test_id("caught-count").inner_text() == "0"
    httpx.put(f"{bin_['url']}/orders?x=1", content=b"<i>hello</i>", headers={"X-Test": "1"}, timeout=30)
    page.get_by_test_id("caught-request").first.wait_for(timeout=30_000)
    assert page.url == url  # it came in without navigating
    head = page.get_by_test_id("caught-request").first.inner_text()
    assert "PUT /orders?x=1" in head
    assert page.get_by_test_id("caught-body").first.inner_text() == "<i>hello</i>"


def test_a_request_opened_on_a_capture_url_page_stays_open_through_the_live_refresh(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as admin:
        made = admin.post("/api/v1/inspect", json={"name": "keep-open"})
        assert made.status_code == 201, made.text
        bin_ = made.json()
    for number in range(3):
        httpx.post(bin_["url"], content=f"request {number}".encode(), timeout=30)
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/bins/{bin_['id']}")
    details = page.locator("[data-testid=caught-request] details")
    assert details.count() == 3
    details.nth(2).locator("summary").click()  # the reader opens the oldest request,
    details.nth(0).locator("summary").click()  # and closes the newest one (open by default)
    opened = "[...document.querySelectorAll('#caught details')].map(d => d.open)"
    assert page.evaluate(opened) == [False, False, True]
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        pass  # the list replaces itself every two seconds
    page.wait_for_timeout(300)  # swapped in
    assert page.evaluate(opened) == [False, False, True]
    assert watched.errors == []
