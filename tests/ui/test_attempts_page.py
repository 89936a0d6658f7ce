"""The application's attempts log over HTTP, on both databases: every endpoint's attempts newest
first, each filter honoured, pages that reach them all, a failed one resent, the failed
deliveries retried in bulk, and neither another application's attempts nor a read-only tenant's
changes getting through."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.conftest import HooklineFactory
from tests.support.api import attempts, delivery_status, make_endpoint, publish
from tests.support.servers import Hookline, Receiver, Reply, wait_until
from tests.ui.support import csrf_token, open_portal, portal_link, signed_in

_ROW = re.compile(r'data-attempt="(atmpt_[0-9A-Za-z]{22})">.*?href="[^"]*/messages/(msg_\w+)"', re.DOTALL)
_PAGE_LINK = re.compile(r'href="([^"]*/attempts\?[^"]*)" data-testid="(older|newer)-attempts"')
_RESEND = re.compile(r'action="[^"]*/messages/(msg_\w+)/resend"')
_HX_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.respond = lambda got: Reply(status=500 if "failing" in got.path else 200)
    yield r
    r.close()


@pytest.fixture
def hookline(hookline_factory: HooklineFactory) -> Iterator[Hookline]:
    # A failed attempt's retry waits an hour: the log holds exactly one attempt per delivery.
    with hookline_factory(retry_schedule=(3600.0,)) as hl:
        yield hl


def _rows(page: httpx.Response) -> list[tuple[str, str]]:
    """(attempt id, message id) of each row, as listed."""
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


def _settled(api: httpx.Client, app: str, endpoints: dict[str, int]) -> None:
    """Wait until each endpoint has its number of attempts recorded."""
    for endpoint, count in endpoints.items():
        wait_until(lambda e=endpoint, n=count: len(attempts(api, app, e)) == n, 60, f"{count} attempts to {endpoint}")


def test_the_log_lists_every_endpoints_attempts_newest_first_and_honours_each_filter(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as api:
        app_id, paid_ep = make_endpoint(api, receiver.url("/paid"), app_uid="acme", filterTypes=["invoice.paid"])
        _, failing_ep = make_endpoint(api, receiver.url("/failing"), app_uid="acme", filterTypes=["invoice.failed"])
        other_id, other_ep = make_endpoint(api, receiver.url("/other-failing"), app_uid="globex")
        foreign = [publish(api, "globex", event_type="invoice.failed") for _ in range(2)]
        failed = [publish(api, "acme", event_type="invoice.failed") for _ in range(3)]
        paid = [publish(api, "acme", event_type="invoice.paid") for _ in range(55)]
        _settled(api, "acme", {paid_ep: 55, failing_ep: 3})
        _settled(api, "globex", {other_ep: 2})
        by_api = sorted(
            [(a["id"], a["msgId"]) for e in (paid_ep, failing_ep) for a in attempts(api, "acme", e)], reverse=True
        )
    with signed_in(hookline) as (client, _):
        listing = f"/ui/apps/{app_id}/attempts"
        first = client.get(listing)
        assert len(_rows(first)) == 50
        assert 'aria-current="page">Attempts</a>' in first.text
        every = _walk(client, listing)
        assert every == by_api  # newest first, both endpoints, nothing of globex's
        assert not set(foreign) & {m for _, m in every}
        assert other_ep not in first.text and other_id not in first.text

        failures = client.get(listing, params={"status": "failed"})
        assert {m for _, m in _rows(failures)} == set(failed)
        assert failures.text.count("Internal Server Error") == 3
        assert sorted(_RESEND.findall(failures.text)) == sorted(failed)  # a Resend for each failed row
        assert f'href="/ui/apps/{app_id}/endpoints/{failing_ep}"' in failures.text
        successes = _walk(client, f"{listing}?status=succeeded")
        assert {m for _, m in successes} == set(paid)
        assert _RESEND.findall(client.get(listing, params={"status": "succeeded"}).text) == []

        assert {m for _, m in _walk(client, f"{listing}?endpoint={failing_ep}")} == set(failed)
        assert {m for _, m in _walk(client, f"{listing}?endpoint={paid_ep}")} == set(paid)
        assert {m for _, m in _rows(client.get(listing, params={"event_type": "invoice.failed"}))} == set(failed)
        # The filters ride along the page links.
        older = _links(client.get(listing, params={"status": "succeeded", "event_type": "invoice.paid"}))["older"]
        assert "status=succeeded" in older and "event_type=invoice.paid" in older

        newest = datetime.fromtimestamp(time.time() + 120, UTC).strftime("%Y-%m-%dT%H:%M")
        assert _rows(client.get(listing, params={"since": newest})) == []
        assert len(_walk(client, f"{listing}?since={_HOUR_AGO}&until={newest}")) == 58
        assert _rows(client.get(listing, params={"until": _HOUR_AGO})) == []

        # Values the page cannot use come back as sentences, not errors.
        bad_date = client.get(listing, params={"since": "yesterday", "status": "failed"})
        assert bad_date.status_code == 400
        assert "From must be a date and time" in bad_date.text and 'value="yesterday"' in bad_date.text
        foreign_ep = client.get(listing, params={"endpoint": other_ep})
        assert foreign_ep.status_code == 400
        assert "There is no such endpoint in this application" in foreign_ep.text
        assert _ROW.findall(foreign_ep.text) == []
        unknown = client.get(listing, params={"status": "pending"})
        assert unknown.status_code == 400 and "status must be succeeded or failed" in unknown.text
        for bad in ({"after": "atmpt_x"}, {"before": "../../x"}, {"after": every[0][0], "before": every[1][0]}):
            refused = client.get(listing, params=bad)
            assert refused.status_code == 400, bad
            assert "No such page" in refused.text
        end = client.get(listing, params={"after": every[-1][0]})
        assert _rows(end) == [] and "No more attempts here." in end.text


def test_a_failed_row_is_resent_and_the_failed_deliveries_retried_but_only_this_applications(
    hookline_factory: HooklineFactory, receiver: Receiver
) -> None:
    # One retry soon after, then the delivery has failed for good: what the bulk retry takes.
    with hookline_factory(retry_schedule=(0.05,)) as hl, hl.client() as api:
        app_id, failing_ep = make_endpoint(api, receiver.url("/failing"), app_uid="acme")
        _, other_ep = make_endpoint(api, receiver.url("/other-failing"), app_uid="globex")
        failed = [publish(api, "acme") for _ in range(3)]
        foreign = publish(api, "globex")
        for app, msg in [*(("acme", m) for m in failed), ("globex", foreign)]:
            wait_until(lambda a=app, m=msg: delivery_status(api, a, m)[0]["statusText"] == "fail", 20, "failures")
        assert len(attempts(api, "acme", failing_ep)) == 6
        receiver.respond = lambda got: Reply(status=500 if got.path == "/other-failing" else 200)
        to_globex = len([r for r in receiver.requests if r.path == "/other-failing"])
        with signed_in(hl) as (client, _):
            listing = f"/ui/apps/{app_id}/attempts"
            page = client.get(listing, params={"status": "failed"})
            token = csrf_token(page.text)
            resent = client.post(
                f"/ui/apps/{app_id}/messages/{failed[0]}/resend", data={"csrf_token": token, "endpoint_id": failing_ep}
            )
            assert resent.status_code == 303
            assert resent.headers["location"] == f"/ui/apps/{app_id}/messages/{failed[0]}#endpoint-{failing_ep}"
            wait_until(lambda: delivery_status(api, "acme", failed[0])[0]["statusText"] == "success", 20, "resent")
            manual = client.get(listing, params={"status": "succeeded"})
            assert [m for _, m in _rows(manual)] == [failed[0]] and "manual" in manual.text

            # Another application's message or endpoint cannot be sent from this one's pages.
            for msg, endpoint in ((foreign, other_ep), (failed[1], other_ep), (foreign, failing_ep)):
                crossed = client.post(
                    f"/ui/apps/{app_id}/messages/{msg}/resend", data={"csrf_token": token, "endpoint_id": endpoint}
                )
                assert crossed.status_code == 404
            crossed = client.post(
                f"{listing}/retry-failed", data={"csrf_token": token, "since": _HOUR_AGO, "endpoint": other_ep}
            )
            assert crossed.status_code == 404

            # A retry the page cannot start comes back as a sentence beside the field.
            for form, said in (
                ({}, "Messages sent from is required"),
                ({"since": "soon"}, "Messages sent from must be a date and time"),
                ({"since": _HOUR_AGO, "until": "2000-01-01T00:00"}, "Sent until must be later"),
            ):
                bad = client.post(f"{listing}/retry-failed?status=failed", data={"csrf_token": token, **form})
                assert bad.status_code == 400 and said in bad.text, form
                assert 'data-testid="form-alert"' in bad.text and "Not started" in bad.text
                assert len(_ROW.findall(bad.text)) == 6  # the filtered log still shown under the refused form
            assert client.post(f"{listing}/retry-failed", data={"since": _HOUR_AGO}).status_code == 403

            started = client.post(f"{listing}/retry-failed", data={"csrf_token": token, "since": _HOUR_AGO})
            assert started.status_code == 303
            job = started.headers["location"]
            assert job.startswith(f"/ui/apps/{app_id}/jobs/")
            wait_until(lambda: 'data-testid="job-progress">2 of 2<' in client.get(job).text, 30, "the job")
            for msg in failed[1:]:
                wait_until(lambda m=msg: delivery_status(api, "acme", m)[0]["statusText"] == "success", 20, "retried")
            retried = _rows(client.get(listing, params={"status": "succeeded"}))
            assert {m for _, m in retried} == set(failed)
        assert delivery_status(api, "globex", foreign)[0]["statusText"] == "fail"
        assert len([r for r in receiver.requests if r.path == "/other-failing"]) == to_globex


def test_the_portal_lists_the_tenants_attempts_and_a_read_only_tenant_cannot_resend_or_retry(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as api:
        _, ep = make_endpoint(api, receiver.url("/failing"), app_uid="acme")
        _, other_ep = make_endpoint(api, receiver.url("/other-failing"), app_uid="globex")
        own = publish(api, "acme")
        foreign = publish(api, "globex")
        _settled(api, "acme", {ep: 1})
        _settled(api, "globex", {other_ep: 1})
        full = portal_link(api, "acme")
        read_only = portal_link(api, "acme", readOnly=True)
    with httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, full).status_code == 303
        page = tenant.get("/portal/attempts")
        assert [m for _, m in _rows(page)] == [own]
        # The portal's own navigation leads here (its pages have no application tabs).
        assert 'href="/portal/attempts" aria-current="page"' in tenant.get("/portal/attempts").text
        assert foreign not in page.text and other_ep not in page.text
        assert _RESEND.findall(page.text) == [own] and 'data-testid="retry-failed"' in page.text
        assert tenant.get("/portal/attempts", params={"endpoint": other_ep}).status_code == 400
        crossed = tenant.post(
            f"/portal/messages/{foreign}/resend", data={"csrf_token": csrf_token(page.text), "endpoint_id": other_ep}
        )
        assert crossed.status_code == 404
    sent = len(receiver.requests)
    with httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, read_only).status_code == 303
        page = tenant.get("/portal/attempts")
        assert [m for _, m in _rows(page)] == [own]
        assert "This access is read-only" in page.text
        assert _RESEND.findall(page.text) == [] and "retry-failed" not in page.text
        # Posted anyway, with the session's own token: refused for want of the right.
        token = _HX_CSRF.search(page.text)
        assert token is not None
        for path, data in (
            (f"/portal/messages/{own}/resend", {"endpoint_id": ep}),
            ("/portal/attempts/retry-failed", {"since": _HOUR_AGO}),
        ):
            resp = tenant.post(path, data={"csrf_token": token.group(1), **data})
            assert resp.status_code == 403 and "does not allow that change" in resp.text
    time.sleep(0.3)
    assert len(receiver.requests) == sent
