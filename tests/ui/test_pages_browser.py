"""The application pages and the tenant portal in a real Chromium, against one real server
(shared by the module: the CI budget is tight)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.api import make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver, Reply, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.support import portal_link

pytestmark = needs_chromium
PHONE = 390
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.respond = lambda _r: Reply(status=200, body=b'{"received": true}')
    yield r
    r.close()


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("ui") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}")) as hl:
        yield hl


def sign_in(watched: Watched, hookline: Hookline) -> None:
    page = watched.page
    page.goto(f"{hookline.url}/ui/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/")


def scroll_width(watched: Watched) -> int:
    return int(watched.page.evaluate("document.scrollingElement.scrollWidth"))


def wait_attempts(watched: Watched, count: int) -> None:
    """Reload the message page until ``count`` attempts show (delivery runs in the background)."""
    page = watched.page
    for _ in range(200):
        if page.get_by_test_id("attempt").count() >= count:
            return
        page.wait_for_timeout(250)
        page.reload()
    raise AssertionError(f"{count} attempts never showed")


def test_operator_creates_an_endpoint_sends_a_test_event_and_resends_it(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    page.get_by_role("link", name="Applications", exact=True).click()
    assert "No applications yet." in page.get_by_test_id("apps-empty").inner_text()
    page.fill("#app-name", "Acme Donations")
    page.get_by_role("button", name="Create application").click()
    page.wait_for_selector("[data-testid=endpoints-empty]")
    page.fill("#ep-url", receiver.url("/donations"))
    page.fill("#ep-description", "CRM import")
    page.get_by_role("button", name="Add endpoint").click()
    page.wait_for_selector("[data-testid=endpoint-url]")
    assert page.get_by_test_id("endpoint-url").inner_text() == receiver.url("/donations")
    page.get_by_role("link", name="Reveal secret").click()
    assert page.get_by_test_id("secret").inner_text().startswith("whsec_")
    page.get_by_role("button", name="Send test event").click()
    page.wait_for_selector("[data-testid=payload]")
    wait_attempts(watched, 1)
    assert page.get_by_test_id("attempt-status").first.inner_text() == "200"
    assert '"received": true' in page.get_by_test_id("attempt-response").first.text_content()
    sent = page.get_by_test_id("attempt-request-headers").first.text_content()
    assert "webhook-signature: v1," in sent and "webhook-id: msg_" in sent
    page.get_by_role("button", name="Resend to this endpoint").click()
    wait_attempts(watched, 2)
    assert "manual" in page.get_by_test_id("attempt").nth(1).inner_text()
    assert len(receiver.requests) >= 2
    message_url = page.url.split("#")[0]
    # Bulk replay from the endpoint's page: its job's progress updates in place (HTMX polling).
    page.locator("[data-testid=destination] h2 a").first.click()
    page.fill("#recover-since", "2020-01-01T00:00")
    page.select_option("#recover-kind", "bulk-replay")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/jobs/*")
    job_url = page.url
    page.get_by_test_id("job-status").filter(has_text="finished").wait_for(timeout=60_000)
    assert page.url == job_url  # updated without navigating
    done, _, total = page.get_by_test_id("job-progress").inner_text().partition(" of ")
    assert done == total and int(total) >= 1
    # The same pages at phone width: nothing sticks out.
    phone = open_page(width=PHONE, height=844)
    sign_in(phone, hookline)
    app_base = message_url.split("/messages/")[0]
    for url in (message_url, job_url, app_base + "/messages", app_base + "/event-types", app_base + "/"):
        phone.page.goto(url)
        assert scroll_width(phone) <= PHONE, url
    endpoint_link = phone.page.locator("[data-testid=endpoints] a").first
    endpoint_link.click()
    phone.page.wait_for_selector("#deliveries-chart canvas")
    assert scroll_width(phone) <= PHONE
    assert watched.errors == [] and phone.errors == []


def test_a_script_in_a_payload_is_shown_as_text(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    with hookline.client() as api:
        make_endpoint(api, "https://hostile.example/" + HOSTILE, app_uid="hostile")
        msg = publish(api, "hostile", event_type="x.y", payload={"note": HOSTILE, HOSTILE: 1})
        app_id = api.get("/api/v1/app/hostile").json()["id"]
    watched = open_page()
    sign_in(watched, hookline)
    watched.page.goto(f"{hookline.url}/ui/apps/{app_id}/messages/{msg}")
    assert HOSTILE in watched.page.get_by_test_id("payload").inner_text()
    watched.page.goto(f"{hookline.url}/ui/apps/{app_id}/")
    assert watched.page.locator("main script").count() == 0
    assert watched.dialogs == []
    assert watched.errors == []


def test_a_portal_link_opens_the_tenants_own_portal_once(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as api:
        make_endpoint(api, receiver.url("/tenant-hook"), app_uid="tenant", description="Our CRM")
        make_endpoint(api, receiver.url("/secret-other-hook"), app_uid="other-tenant")
        publish(api, "other-tenant", event_type="other.private")
        url = portal_link(api, "tenant", capabilities=["ManageEndpoint", "CreateAttempts"])
    watched = open_page(width=PHONE, height=844)
    page = watched.page
    page.goto(url)
    page.wait_for_url("**/portal/**")
    assert receiver.url("/tenant-hook") in page.get_by_test_id("endpoints").inner_text()
    for path in ("/portal/", "/portal/messages", "/portal/event-types"):
        page.goto(hookline.url + path)
        html = page.content()
        assert "other-tenant" not in html and "secret-other-hook" not in html and "other.private" not in html
        assert scroll_width(watched) <= PHONE, path
    # The same link a second time, in another browser: refused.
    again = open_page()
    again.page.goto(url)
    again.page.wait_for_selector("[data-testid=error-detail]")
    assert "works once" in again.page.get_by_test_id("error-detail").inner_text()
    assert watched.errors == [] and watched.dialogs == []


def test_a_long_unbroken_description_wraps_instead_of_widening_the_page(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://long.example/hook", app_uid="long-words", description="x" * 300)
    for width in (1280, PHONE):
        watched = open_page(width=width, height=844)
        sign_in(watched, hookline)
        for url in (f"/ui/apps/{app_id}/", f"/ui/apps/{app_id}/endpoints/{ep}"):
            watched.page.goto(hookline.url + url)
            assert scroll_width(watched) <= width, (width, url)


def test_a_long_application_name_wraps_or_is_cut_instead_of_widening_the_page(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as api:
        app = api.post("/api/v1/app", json={"name": "N" * 2000, "uid": "long-name"})
        assert app.status_code == 201, app.text
        app_id = app.json()["id"]
        _, ep = make_endpoint(api, "https://long-name.example/hook", app_uid="long-name")
        msg = publish(api, "long-name", event_type="long.name")
        links = {width: portal_link(api, "long-name") for width in (1280, PHONE)}
    pages = ("/", "/messages", f"/messages/{msg}", f"/endpoints/{ep}", "/event-types")
    for width in (1280, PHONE):
        watched = open_page(width=width, height=844)
        sign_in(watched, hookline)
        for url in ("/ui/apps", *(f"/ui/apps/{app_id}{p}" for p in pages)):
            watched.page.goto(hookline.url + url)
            assert scroll_width(watched) <= width, (width, url)
        tenant = open_page(width=width, height=844)
        tenant.page.goto(links[width])
        tenant.page.wait_for_url("**/portal/**")
        for url in (f"/portal{p}" for p in pages):
            tenant.page.goto(hookline.url + url)
            assert scroll_width(tenant) <= width, (width, url)
            # The navigation stays on screen beside (or below) the name.
            right = tenant.page.evaluate("document.querySelector('.topbar .nav').getBoundingClientRect().right")
            assert right <= width, (width, url)
        assert watched.errors == [] and tenant.errors == []
