"""Editing a source's destination on its page, over HTTP as the operator posts the form: the
destination changes in place (its id, secret and attempts stay) and its new URL gets the next
request; a refused edit comes back as typed with a sentence under the field, under that
destination only."""

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from tests.support.servers import Hookline, Receiver, run, wait_until
from tests.ui.forms import Shown, read
from tests.ui.support import signed_in

from hookline.store import tables
from hookline.store.database import Database

ROOT = "/ingest/api/v1/source"
DEST_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOSTILE = '"><script>alert(1)</script>'


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    # The page calls the use-cases the ingest API calls, whose storage runs on both databases
    # in tests/api/test_ingest_destination_patch.py.
    return f"sqlite:///{tmp_path}/hookline.db"


def _source(hookline: Hookline, *destinations: dict[str, Any]) -> dict[str, Any]:
    with hookline.client() as admin:
        body = {"name": "crm", "type": "generic-webhook", "config": {}, "destinations": list(destinations)}
        made = admin.post(ROOT, json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _destinations(hookline: Hookline, source_id: str) -> list[dict[str, Any]]:
    with hookline.client() as admin:
        return list(admin.get(f"{ROOT}/{source_id}/endpoint").json()["data"])


def _send(hookline: Hookline, source: dict[str, Any], below: str, body: bytes) -> None:
    token = source["ingestUrl"].rsplit("/in/", 1)[1]
    assert httpx.post(f"{hookline.url}/in/{token}{below}", content=body, timeout=30).status_code == 200


def _attempt_urls(hookline: Hookline, source_id: str, endpoint_id: str, count: int) -> list[str]:
    async def app_of() -> str:
        db = Database(hookline.settings.database_url)
        try:
            async with db.read() as conn:
                query = select(tables.ingest_source.c.app_id).where(tables.ingest_source.c.id == source_id)
                return str((await conn.execute(query)).scalar_one())
        finally:
            await db.close()

    path = f"/api/v1/app/{run(app_of())}/attempt/endpoint/{endpoint_id}"
    with hookline.client() as admin:
        wait_until(lambda: len(admin.get(path).json()["data"]) == count, 20, f"{count} attempts")
        return sorted(a["url"] for a in admin.get(path).json()["data"])


def refused(resp: httpx.Response) -> Shown:
    assert resp.status_code == 400, resp.text
    assert "<script>alert(1)" not in resp.text
    return read(resp.text)


def _checked(html: str, ident: str) -> bool:
    return re.search(rf'id="{ident}"[^>]*checked', html) is not None


def test_a_destination_is_edited_in_place_and_its_new_url_gets_the_next_request(
    hookline: Hookline, receiver: Receiver
) -> None:
    source = _source(hookline, {"url": receiver.url("/old"), "secret": DEST_SECRET, "eventTypes": ["push"]})
    [dest] = _destinations(hookline, source["id"])
    page_url = f"/ui/sources/{source['id']}"
    edit = f"{page_url}/destinations/{dest['id']}/edit"
    ed = f"dest-{dest['id']}"
    _send(hookline, source, "/orders", b'{"type": "push"}')
    assert [r.path for r in receiver.wait_for(1)] == ["/old/orders"]

    with signed_in(hookline) as (client, token):
        page = client.get(page_url).text
        shown = read(page)
        # The edit form shows what is stored.
        assert shown.values[f"{ed}-url"] == receiver.url("/old") and shown.values[f"{ed}-types"] == "push"
        assert shown.values[f"{ed}-throttle"] == "" and shown.values[f"{ed}-description"] == ""
        assert _checked(page, f"{ed}-path") and not _checked(page, f"{ed}-disabled")
        assert f'action="{edit}"' in page

        form = {
            "url": receiver.url("/new"),
            "description": "The CRM",
            "event_types": "",
            "throttle_rate": "5",
            "path_forwarding": "off",  # unticked: the hidden "off" alone
            "disabled": "off",
        }
        assert client.post(edit, data={"csrf_token": "forged", **form}).status_code == 403
        assert _destinations(hookline, source["id"]) == [dest]

        resp = client.post(edit, data={"csrf_token": token, **form})
        assert resp.status_code == 303 and resp.headers["location"] == f"{page_url}#destination-{dest['id']}"
        [changed] = _destinations(hookline, source["id"])
        assert changed["id"] == dest["id"] and changed["url"] == receiver.url("/new")
        assert (changed["description"], changed["eventTypes"], changed["throttleRate"]) == ("The CRM", None, 5)
        assert changed["pathForwardingDisabled"] is True and changed["disabled"] is False
        page = client.get(page_url).text
        assert not _checked(page, f"{ed}-path") and read(page).values[f"{ed}-throttle"] == "5"
        assert "not forwarded: requests go to this URL as it is" in page
    with hookline.client() as admin:
        secret = admin.get(f"{ROOT}/{source['id']}/endpoint/{dest['id']}/secret").json()["key"]
    assert secret == DEST_SECRET

    _send(hookline, source, "/orders", b'{"type": "issues"}')  # any event type now
    got = receiver.wait_for(2)[1]
    assert got.path == "/new"
    Webhook(DEST_SECRET).verify(got.body, got.headers)
    assert _attempt_urls(hookline, source["id"], dest["id"], 2) == [receiver.url("/new"), receiver.url("/old/orders")]

    with signed_in(hookline) as (client, token):
        # Ticked boxes: the "on" follows the hidden "off", and wins.
        ticked = {**form, "path_forwarding": ["off", "on"], "disabled": ["off", "on"], "throttle_rate": ""}
        assert client.post(edit, data={"csrf_token": token, **ticked}).status_code == 303
    [again] = _destinations(hookline, source["id"])
    assert (again["pathForwardingDisabled"], again["disabled"], again["throttleRate"]) == (False, True, None)


def test_a_refused_edit_comes_back_as_typed_under_its_destination_and_changes_nothing(hookline: Hookline) -> None:
    source = _source(hookline, {"url": "https://one.example.org/in"}, {"url": "https://two.example.org/in"})
    first, second = _destinations(hookline, source["id"])
    page_url = f"/ui/sources/{source['id']}"
    ed = f"dest-{second['id']}"
    with signed_in(hookline) as (client, token):
        typed = {
            "url": "two.example.org/in",
            "description": HOSTILE,
            "event_types": f"push, bad type!{HOSTILE}",
            "throttle_rate": "fast",
            "path_forwarding": "off",
            "disabled": "on",
        }
        resp = client.post(f"{page_url}/destinations/{second['id']}/edit", data={"csrf_token": token, **typed})
        shown = refused(resp)
        assert shown.errors == {
            f"{ed}-throttle": "The throttle must be a whole number of messages per second; leave it empty for no limit."
        }
        assert shown.values[f"{ed}-throttle"] == "fast" and shown.values[f"{ed}-description"] == HOSTILE
        assert shown.alerts == ["Not saved. Check the field marked below: what you typed is kept."]
        # Only this destination's form is open and marked; the other shows what is stored.
        assert re.search(r'<details class="confirm plain" data-testid="edit-destination" open>', resp.text)
        assert len(re.findall(r'data-testid="edit-destination" open', resp.text)) == 1
        assert shown.invalid == [f"{ed}-throttle"] and shown.autofocus == [f"{ed}-throttle"]
        assert shown.values[f"dest-{first['id']}-url"] == "https://one.example.org/in"
        assert _checked(resp.text, f"{ed}-disabled") and not _checked(resp.text, f"{ed}-path")

        typed["throttle_rate"] = "5"
        # The schema's refusals, each under its field, in the form's order.
        shown = refused(
            client.post(f"{page_url}/destinations/{second['id']}/edit", data={"csrf_token": token, **typed})
        )
        assert list(shown.errors) == [f"{ed}-url", f"{ed}-types"]
        assert shown.errors[f"{ed}-url"] == (
            "The URL must start with https:// or http:// and a host name (write it like https://crm.example.org/webhooks)."
        )
        assert "does not." in shown.errors[f"{ed}-types"] and shown.values[f"{ed}-types"] == typed["event_types"]
    assert _destinations(hookline, source["id"]) == [first, second]


def test_a_destination_of_another_source_cannot_be_edited_from_this_one(hookline: Hookline) -> None:
    one = _source(hookline)
    other = _source(hookline, {"url": "https://other.example.org/in"})
    [theirs] = _destinations(hookline, other["id"])
    form = {"url": "https://x.example.org/", "event_types": "", "throttle_rate": "", "path_forwarding": "on"}
    edit = f"/ui/sources/{one['id']}/destinations/{theirs['id']}/edit"
    with signed_in(hookline) as (client, token):
        resp = client.post(edit, data={"csrf_token": token, **form})
        assert resp.status_code == 404 and "There is no such destination." in resp.text
    with httpx.Client(base_url=hookline.url, timeout=30) as stranger:
        resp = stranger.post(f"/ui/sources/{other['id']}/destinations/{theirs['id']}/edit", data=form)
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
    assert _destinations(hookline, other["id"]) == [theirs]
