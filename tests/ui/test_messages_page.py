"""The messages page's filters and pages over HTTP, for the operator and the tenant, on both
databases: the status filter is part of the query, and every message can be reached."""

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.conftest import HooklineFactory
from tests.support.api import make_endpoint, publish
from tests.support.servers import Hookline, Receiver, Reply
from tests.ui.support import open_portal, portal_link, signed_in

_ROW = re.compile(r'href="[^"]*/messages/(msg_[0-9A-Za-z]{22})">([a-z.]+)</a>')
_PAGE_LINK = re.compile(r'href="([^"]*/messages\?[^"]*)" data-testid="(older|newer)-messages"')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.respond = lambda got: Reply(status=500 if got.path == "/failing" else 200)
    yield r
    r.close()


@pytest.fixture
def hookline(hookline_factory: HooklineFactory) -> Iterator[Hookline]:
    # A failed attempt's retry waits an hour: its delivery stays pending for the test.
    with hookline_factory(retry_schedule=(3600.0,)) as hl:
        yield hl


def _rows(page: httpx.Response) -> list[tuple[str, str]]:
    assert page.status_code == 200, page.text
    return [(m.group(1), m.group(2)) for m in _ROW.finditer(page.text)]


def _links(page: httpx.Response) -> dict[str, str]:
    return {kind: href.replace("&amp;", "&") for href, kind in _PAGE_LINK.findall(page.text)}


def _walk(client: httpx.Client, first: str) -> list[tuple[str, str]]:
    """Every row, following the older links from ``first``; back again by the newer links."""
    page = client.get(first)
    pages = [_rows(page)]
    while "older" in _links(page):
        page = client.get(_links(page)["older"])
        pages.append(_rows(page))
    back = [_rows(page)]
    while "newer" in _links(page):
        page = client.get(_links(page)["newer"])
        back.insert(0, _rows(page))
    assert [p for p in back if p] == [p for p in pages if p]  # the same pages, walking back
    return [row for p in pages for row in p]


def test_the_status_filter_finds_messages_beyond_the_newest_page_and_pages_reach_them_all(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as api:
        app_id, _ = make_endpoint(api, receiver.url("/failing"), app_uid="acme", filterTypes=["invoice.failed"])
        make_endpoint(api, receiver.url("/paid"), app_uid="acme", filterTypes=["invoice.paid"])
        failed = [publish(api, "acme", event_type="invoice.failed") for _ in range(5)]
        paid = [publish(api, "acme", event_type="invoice.paid") for _ in range(60)]
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 65 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.requests) == 65
        time.sleep(0.5)  # the last outcomes recorded
    newest_first = list(reversed(failed + paid))
    with signed_in(hookline) as (client, _):
        listing = f"/ui/apps/{app_id}/messages"
        pending = _rows(client.get(listing, params={"status": "1"}))
        assert [m for m, _ in pending] == list(reversed(failed))
        assert {t for _, t in pending} == {"invoice.failed"}
        assert [m for m, _ in _walk(client, f"{listing}?status=0")] == list(reversed(paid))
        assert [m for m, _ in _walk(client, listing)] == newest_first
        # The filters ride along the page links.
        older = _links(client.get(listing, params={"status": "0", "event_type": "invoice.paid"}))["older"]
        assert "status=0" in older and "event_type=invoice.paid" in older
        for bad in ({"after": "msg_x"}, {"before": "../../x"}, {"after": paid[0], "before": paid[1]}):
            refused = client.get(listing, params=bad)
            assert refused.status_code == 400, bad
            assert "No such page" in refused.text
        end = client.get(listing, params={"after": failed[0]})
        assert _rows(end) == [] and "No more messages here." in end.text
    with hookline.client() as api, httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, portal_link(api, "acme")).status_code == 303
        assert [m for m, _ in _rows(tenant.get("/portal/messages", params={"status": "1"}))] == list(reversed(failed))
        assert [m for m, _ in _walk(tenant, "/portal/messages")] == newest_first
