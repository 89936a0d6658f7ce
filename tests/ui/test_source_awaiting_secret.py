"""A Stripe source made on the dashboard with its secret left empty, over HTTP as the operator
posts the forms: the list and its page say it waits for its signing secret and what to do,
what Stripe sends meanwhile is kept and not forwarded, and once the secret is added on the page
"Verify again and forward" sends what was kept to the destination, once."""

import html
import json
import re
import time
from typing import Any

import httpx
import pytest
import stripe
from tests.support.servers import Hookline, Receiver
from tests.ui.forms import read
from tests.ui.support import signed_in

WHSEC = "whsec_" + "c2hvd24gb25jZSB0aGUgVVJMIGlzIGdpdmVu"
WAITING = "Waiting for its signing secret"
_SOURCE_PAGE = re.compile(r"/ui/sources/(src_[0-9A-Za-z]+)$")


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    # The pages call the same services as the ingest API, whose storage runs on both databases elsewhere.
    return f"sqlite:///{tmp_path}/hookline.db"


def _source(hookline: Hookline, source_id: str) -> dict[str, Any]:
    with hookline.client() as admin:
        return dict(admin.get(f"/ingest/api/v1/source/{source_id}").json())


def _text(page: str) -> str:
    """The page's text, tags dropped and spaces folded, as a reader sees it."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_stripe_source_made_without_its_secret_waits_for_it_then_forwards_what_it_kept(
    hookline: Hookline, receiver: Receiver
) -> None:
    with signed_in(hookline) as (client, token):
        form_page = client.get("/ui/sources").text
        # The hint beside the secret, shown for providers that may wait (hidden for the default, any sender).
        assert re.search(r'data-testid="secret-later" hidden :hidden="generic \|\| !secretRequired"', form_page)
        assert (
            "Leave it empty if the provider shows the secret only after you give it the URL (Stripe does): "
            "requests are kept, not forwarded, until you add it." in form_page
        )
        form = {"name": "Donations", "type": "stripe", "secret": "  ", "destination": receiver.url("/crm")}
        made = client.post("/ui/sources", data={"csrf_token": token, **form})
        assert made.status_code == 303, made.text
        found = _SOURCE_PAGE.search(made.headers["location"])
        assert found, made.headers["location"]
        source_id = found.group(1)
        source = _source(hookline, source_id)
        assert source["awaitingSecret"] is True

        listed = client.get("/ui/sources").text
        assert (
            f'<a class="badge warn" href="/ui/sources/{source_id}#verification" data-testid="awaiting-secret"' in listed
        )
        assert f"{WAITING}: add it" in _text(listed)

        page = client.get(f"/ui/sources/{source_id}").text
        shown = _text(page)
        assert (
            f"{WAITING}. Requests to this URL are kept, not forwarded: Stripe is told they failed and sends them "
            "again later. Paste this URL into Stripe; it then shows the signing secret. Add the secret under "
            "Verification below. Press Verify again and forward on each request received until then." in shown
        )
        assert "No signing secret yet: each request is kept and Stripe is told it failed (401)" in shown
        assert "requests are not verified" not in shown
        # The form to add it is open, and named for what it does now.
        assert re.search(r'<details class="change" open>\s*<summary>Add the signing secret</summary>', page)

        # Stripe sends an event to the URL: kept, refused as a failed verification, not forwarded.
        payload = json.dumps({"id": "evt_gift", "object": "event", "type": "checkout.session.completed"})
        header = stripe.WebhookSignature.generate_signature_header(payload, WHSEC, timestamp=int(time.time()))
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        sent = httpx.post(source["ingestUrl"], content=payload, headers=headers, timeout=30)
        assert sent.status_code == 401, sent.text
        page = client.get(f"/ui/sources/{source_id}").text
        assert "verification_failed: this source has no signing secret yet: add it, then verify again" in page
        # No button that can only fail: it comes with the secret. Posted anyway, it is refused.
        assert not re.findall(r'action="(/ui/sources/[^"]+/replay)"', page)
        assert 'data-testid="verify-after-secret"' in page
        with hookline.client() as api:
            [kept] = api.get(f"/ingest/api/v1/source/{source_id}/request").json()["data"]
        replay = f"/ui/sources/{source_id}/requests/{kept['id']}/replay"
        still = client.post(replay, data={"csrf_token": token})
        assert still.status_code == 409 and "no signing secret yet" in still.text

        # An empty secret is not a secret added: refused under the field, and the source still waits.
        empty = client.post(f"/ui/sources/{source_id}/verification", data={"csrf_token": token, "secret": ""})
        assert empty.status_code == 400, empty.text
        assert read(empty.text).errors == {
            "verify-secret": "Type the signing secret: Stripe shows it once it has the URL."
        }
        assert _source(hookline, source_id)["awaitingSecret"] is True
        time.sleep(0.5)
        assert receiver.requests == []

        added = client.post(f"/ui/sources/{source_id}/verification", data={"csrf_token": token, "secret": f" {WHSEC} "})
        assert added.status_code == 303, added.text
        assert _source(hookline, source_id)["awaitingSecret"] is False
        page = client.get(f"/ui/sources/{source_id}").text
        assert WAITING not in page and 'data-testid="awaiting-secret"' not in page
        assert "Each request must carry a valid Stripe signature" in page
        assert re.search(r'<details class="change">\s*<summary>Change the signing secret</summary>', page)
        assert re.findall(r'action="(/ui/sources/[^"]+/replay)"', page) == [replay]
        assert 'data-testid="verify-after-secret"' not in page
        assert 'data-testid="awaiting-secret"' not in client.get("/ui/sources").text

        # Verify again and forward: the event kept reaches the destination, once.
        forwarded = client.post(replay, data={"csrf_token": token})
        assert forwarded.status_code == 303, forwarded.text
        [got] = receiver.wait_for(1)
        assert (got.path, got.body) == ("/crm", payload.encode())
        time.sleep(0.5)
        assert len(receiver.requests) == 1
        page = client.get(f"/ui/sources/{source_id}").text
        assert "Verify again and forward" not in page and "no signing secret yet" not in page


def test_github_without_a_secret_is_not_verified_rather_than_waiting(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):
        made = client.post("/ui/sources", data={"csrf_token": token, "name": "gh", "type": "github", "secret": ""})
        assert made.status_code == 303, made.text
        page = client.get(made.headers["location"]).text
        listed = client.get("/ui/sources").text
        # Changing it to no secret stays allowed: for GitHub that means not verified.
        again = client.post(f"{made.headers['location']}/verification", data={"csrf_token": token, "secret": ""})
        assert again.status_code == 303, again.text
    assert 'data-testid="awaiting-secret"' not in page and 'data-testid="awaiting-secret"' not in listed
    assert "No signing secret: requests are not verified" in page
