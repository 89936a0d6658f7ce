"""The dashboard in a real Chromium: signing in and out, the overview, escaping, phone width."""

from collections.abc import Callable

import pytest
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver, Reply
from tests.ui.conftest import Watched, needs_chromium

pytestmark = needs_chromium
PHONE = 390
HOSTILE_NAMES = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "\"'><svg onload=alert(3)>"]


@pytest.fixture
def database_url(tmp_path) -> str:
    # The browser tests check pages, not storage; the queries behind them run on both databases
    # in test_queries.py.
    return f"sqlite:///{tmp_path}/hookline.db"


def sign_in(watched: Watched, hookline: Hookline, token: str = ADMIN_TOKEN) -> None:
    page = watched.page
    page.goto(f"{hookline.url}/ui/")
    assert page.url.endswith("/ui/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def scroll_width(watched: Watched) -> int:
    return int(watched.page.evaluate("document.scrollingElement.scrollWidth"))


def test_operator_signs_in_sees_the_overview_and_signs_out(
    hookline: Hookline, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    assert page.url.endswith("/ui/")
    assert page.locator("h1").inner_text() == "Overview"
    # A new installation: every panel says what to do next.
    assert "hookline app create" in page.get_by_test_id("apps-empty").inner_text()
    assert "No deliveries in the last hour" in page.get_by_test_id("chart-empty").inner_text()
    assert page.get_by_test_id("backlog").inner_text() == "0"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login?out")
    assert "You are signed out." in page.locator("[role=status]").inner_text()
    page.goto(f"{hookline.url}/ui/")
    assert page.url.endswith("/ui/login")
    assert watched.errors == []  # no CSP violation, no script error


def test_wrong_token_is_refused_on_the_page(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    sign_in(watched, hookline, token="wrong")
    assert "That token is not valid." in watched.page.locator("[role=alert]").inner_text()
    assert watched.page.url.endswith("/ui/login")
    assert watched.errors == []


def test_hostile_names_show_as_text_and_run_nothing(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    with hookline.client() as api:
        for name in HOSTILE_NAMES:
            assert api.post("/api/v1/app", json={"name": name}).status_code == 201
    watched = open_page()
    sign_in(watched, hookline)
    shown = watched.page.get_by_test_id("apps").inner_text()
    for name in HOSTILE_NAMES:
        assert name in shown
    assert watched.page.locator("main script, main img, main svg").count() == 0
    assert watched.dialogs == []
    assert watched.errors == []


def test_overview_charts_real_deliveries(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    receiver.respond = lambda r: Reply(status=500 if r.path == "/broken" else 200)
    with hookline.client() as api:
        _, good = make_endpoint(api, receiver.url("/ok"))
        _, broken = make_endpoint(api, receiver.url("/broken"))
        make_endpoint(api, receiver.url("/off"), disabled=True)
        publish(api, "acme")
        publish(api, "acme")
        wait_attempts(api, "acme", good, 2)
        wait_attempts(api, "acme", broken, 2)
    watched = open_page()
    sign_in(watched, hookline)
    page = watched.page
    assert int(page.get_by_test_id("succeeded").inner_text()) >= 2
    assert int(page.get_by_test_id("failed").inner_text()) >= 2
    assert page.get_by_test_id("p95").inner_text().endswith(" ms")
    page.wait_for_selector("#deliveries-chart canvas")
    assert "disabled" in page.get_by_test_id("troubled").inner_text()
    assert "/off" in page.get_by_test_id("troubled").inner_text()
    # Still retrying, not exhausted: listed by its failures, the healthy endpoint is not.
    troubled = page.get_by_test_id("troubled").inner_text()
    assert "/broken" in troubled and "failed attempts in 15 min, none succeeded" in troubled
    assert "/ok" not in troubled
    page.get_by_role("link", name="Last day").click()
    page.wait_for_selector("#deliveries-chart canvas")
    assert "last day" in page.get_by_test_id("succeeded").locator("..").inner_text()
    assert watched.errors == []


def test_pages_fit_a_phone_screen(hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]) -> None:
    long_url = receiver.url("/" + "a-very-long-path-segment/" * 8)
    with hookline.client() as api:
        assert api.post("/api/v1/app", json={"name": "An application with a rather long name " * 3}).status_code == 201
        make_endpoint(api, long_url, disabled=True)
        make_endpoint(api, receiver.url())
        publish(api, "acme")
    watched = open_page(width=PHONE, height=844)
    watched.page.goto(f"{hookline.url}/ui/login")
    assert scroll_width(watched) <= PHONE
    sign_in(watched, hookline)
    watched.page.wait_for_selector("#deliveries-chart canvas")
    assert scroll_width(watched) <= PHONE
    chart_box = watched.page.locator("#deliveries-chart canvas").bounding_box()
    assert chart_box is not None
    assert chart_box["x"] + chart_box["width"] <= PHONE
    assert watched.errors == []


def test_theme_toggle_switches_and_remembers(hookline: Hookline, open_page: Callable[..., Watched]) -> None:
    watched = open_page(dark=True)
    page = watched.page
    page.goto(f"{hookline.url}/ui/login")
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    page.get_by_role("button", name="Switch to light theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    light = page.evaluate(background)
    assert light != dark
    page.reload()
    assert page.evaluate(background) == light
    assert page.get_by_role("button", name="Switch to dark theme").is_visible()
    assert watched.errors == []


def test_overview_refreshes_in_place_and_leaves_when_the_session_ends(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    page = watched.page
    sign_in(watched, hookline)
    assert page.get_by_test_id("succeeded").inner_text() == "0"
    with hookline.client() as api:
        _, ep = make_endpoint(api, receiver.url())
        publish(api, "acme")
        wait_attempts(api, "acme", ep, 1)
    page.evaluate("htmx.trigger('#overview', 'refresh')")  # what the 30 s timer does
    page.wait_for_selector("#deliveries-chart canvas")
    assert page.get_by_test_id("succeeded").inner_text() == "1"
    assert page.url.endswith("/ui/")  # swapped in place, no navigation
    page.context.clear_cookies()
    page.evaluate("htmx.trigger('#overview', 'refresh')")
    page.wait_for_url("**/ui/login")
    assert watched.errors == []
