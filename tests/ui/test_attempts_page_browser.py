"""The attempts log in a real Chromium at phone width: reached from the application's tabs,
filtered by its form, a failed row resent and the failed deliveries retried, with no script
error, no CSP violation and nothing wider than the screen."""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.api import attempts, make_endpoint, publish
from tests.support.servers import Hookline, Receiver, Reply, run_hookline, wait_until
from tests.support.servers import test_settings as settings_for
from tests.ui.conftest import Watched, needs_chromium
from tests.ui.test_pages_browser import PHONE, scroll_width, sign_in

pytestmark = needs_chromium
# Never sent (the address is refused), but shown: as text, escaped.
HOSTILE_URL = "http://10.0.0.1/h?q=<img/src=x/onerror=alert(1)>"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.respond = lambda got: Reply(status=500 if got.path == "/failing" else 200)
    yield r
    r.close()


@pytest.fixture(scope="module")
def hookline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hookline]:
    path: Path = tmp_path_factory.mktemp("attempts") / "hookline.db"
    with run_hookline(settings_for(f"sqlite:///{path}", retry_schedule=(0.05,))) as hl:
        yield hl


def test_an_operator_filters_the_log_resends_a_failure_and_retries_the_rest(
    hookline: Hookline, receiver: Receiver, open_page: Callable[..., Watched]
) -> None:
    with hookline.client() as api:
        app_id, ok_ep = make_endpoint(api, receiver.url("/ok"), app_uid="acme", filterTypes=["order.paid"])
        _, failing_ep = make_endpoint(api, receiver.url("/failing"), app_uid="acme", filterTypes=["order.failed"])
        _, hostile_ep = make_endpoint(api, HOSTILE_URL, app_uid="acme", filterTypes=["order.hostile"])
        publish(api, "acme", "order.paid")
        failed = [publish(api, "acme", "order.failed") for _ in range(2)]
        publish(api, "acme", "order.hostile")
        wait_until(lambda: len(attempts(api, "acme", failing_ep)) == 4, 20, "two tries of each failure")
        wait_until(lambda: len(attempts(api, "acme", ok_ep)) == 1 and attempts(api, "acme", hostile_ep), 20, "sent")
        made = sum(len(attempts(api, "acme", e)) for e in (ok_ep, failing_ep, hostile_ep))
    watched = open_page(width=PHONE)
    page = watched.page
    sign_in(watched, hookline)
    page.goto(f"{hookline.url}/ui/apps/{app_id}/")
    page.get_by_role("link", name="Attempts", exact=True).click()
    page.wait_for_selector("[data-testid=attempts]")
    assert page.get_by_test_id("attempt-row").count() == made
    assert page.get_by_text(HOSTILE_URL).count() >= 1  # shown as it was typed, never run
    assert scroll_width(watched) <= PHONE

    page.select_option("select[name=status]", "failed")
    page.select_option("select[name=endpoint]", failing_ep)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/attempts?status=failed&endpoint=*")
    assert page.get_by_test_id("attempt-row").count() == 4
    assert set(page.get_by_test_id("attempt-status").all_inner_texts()) == {"500"}
    assert page.get_by_test_id("attempt-outcome").first.inner_text() == "Internal Server Error"

    receiver.respond = lambda got: Reply(status=200)
    page.get_by_test_id("resend").first.click()
    page.wait_for_url(re.compile(rf"/messages/({'|'.join(failed)})#endpoint-{failing_ep}$"))
    page.go_back()
    page.wait_for_selector("#retry-failed")
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#retry-since", since)
    page.get_by_test_id("retry-failed").click()
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector("[data-testid=job-status] .badge.ok", timeout=30_000)

    page.goto(f"{hookline.url}/ui/apps/{app_id}/attempts?status=succeeded&endpoint={failing_ep}")
    for _ in range(100):  # the resends are made in the background
        if page.get_by_test_id("attempt-row").count() == 2:
            break
        page.wait_for_timeout(200)
        page.reload()
    assert page.get_by_test_id("attempt-row").count() == 2
    assert page.get_by_text("manual").count() == 2
    assert watched.errors == [] and watched.dialogs == []
