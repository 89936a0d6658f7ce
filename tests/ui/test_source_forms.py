"""Setting up an inbound source from the dashboard, over HTTP as the operator posts the forms:
create one (with its verification and a first destination), add and remove destinations, change
its secret, rotate its URL and delete it; each change reaches the ingest API's view of the source,
and a refused form comes back as typed with a sentence under the field."""

import hashlib
import hmac
import re
import time
from typing import Any

import httpx
import pytest
from tests.support.servers import Hookline
from tests.ui.forms import Shown, read
from tests.ui.support import signed_in

HOSTILE = '"><script>alert(1)</script>'
_SOURCE_PAGE = re.compile(r"/ui/sources/(src_[0-9A-Za-z]+)$")


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    # The pages call the same services as the ingest API, whose storage runs on both databases elsewhere.
    return f"sqlite:///{tmp_path}/hookline.db"


def refused(resp: httpx.Response) -> Shown:
    assert resp.status_code == 400, resp.text
    assert "<script>alert(1)" not in resp.text
    return read(resp.text)


def created(resp: httpx.Response) -> str:
    """The id of the source a 303 leads to."""
    assert resp.status_code == 303, resp.text
    found = _SOURCE_PAGE.search(resp.headers["location"])
    assert found, resp.headers["location"]
    return found.group(1)


def sources(hookline: Hookline) -> list[dict[str, Any]]:
    with hookline.client() as admin:
        return list(admin.get("/ingest/api/v1/source").json()["data"])


def destinations(hookline: Hookline, source_id: str) -> list[dict[str, Any]]:
    with hookline.client() as admin:
        return list(admin.get(f"/ingest/api/v1/source/{source_id}/endpoint").json()["data"])


def test_a_new_source_is_made_with_its_secret_and_first_destination_and_its_page_shows_the_url(
    hookline: Hookline,
) -> None:
    with signed_in(hookline) as (client, token):
        form = {
            "name": "Stripe (live)",
            "type": "stripe",
            "secret": " whsec_abc ",
            "destination": "https://crm.example.org/in",
        }
        source_id = created(client.post("/ui/sources", data={"csrf_token": token, **form}))
        page = client.get(f"/ui/sources/{source_id}")
    [source] = sources(hookline)
    assert (source["id"], source["name"], source["type"]) == (source_id, "Stripe (live)", "stripe")
    [destination] = destinations(hookline, source_id)
    assert destination["url"] == "https://crm.example.org/in" and destination["pathForwardingDisabled"] is False
    assert page.status_code == 200
    assert f'data-testid="ingest-url" x-ref="text">{source["ingestUrl"]}</pre>' in page.text
    assert 'x-data="copyText"' in page.text  # the copy button (app.js), no inline script
    assert "<strong>Paste this into Stripe.</strong> Developers → Webhooks → Add endpoint" in page.text
    assert "Each request must carry a valid Stripe signature" in page.text
    assert 'data-testid="destination-url">https://crm.example.org/in</code>' in page.text
    # The secret was stored as typed, without the spaces pasted around it: a request signed with it passes.
    body = b'{"id": "evt_1", "type": "charge.succeeded"}'
    stamp = str(int(time.time()))
    signature = hmac.new(b"whsec_abc", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    sent = httpx.post(
        source["ingestUrl"], content=body, headers={"Stripe-Signature": f"t={stamp},v1={signature}"}, timeout=30
    )
    assert sent.status_code == 200, sent.text


def test_generic_sources_take_each_verification_scheme_and_github_needs_no_secret(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):

        def make(name: str, **fields: str) -> str:
            return created(client.post("/ui/sources", data={"csrf_token": token, "name": name, **fields}))

        # Fields of another scheme, hidden on the page but posted, are left out.
        hmac_id = make(
            "crm",
            type="generic-webhook",
            verification="hmac",
            secret="s3cret",
            hmac_header="X-Signature",
            hmac_algorithm="sha512",
            hmac_encoding="base64",
            hmac_prefix="sha512=",
            username="ignored",
        )
        basic_id = make("forms", type="generic-webhook", verification="basic-auth", username="giver", password="pw")
        key_id = make("donations", type="generic-webhook", verification="api-key", api_key="k", api_key_header="")
        open_id = make("anyone", type="generic-webhook", verification="none", secret="ignored")
        github_id = make("gh", type="github", secret="")
        page = client.get(f"/ui/sources/{github_id}").text
    configs = {s["id"]: (s["type"], s["config"]) for s in sources(hookline)}
    assert configs[hmac_id] == (
        "generic-webhook",
        {"hmac": {"header": "X-Signature", "algorithm": "sha512", "encoding": "base64", "prefix": "sha512="}},
    )
    assert configs[basic_id] == ("generic-webhook", {"basicAuth": {"username": "giver"}})
    assert configs[key_id] == ("generic-webhook", {"apiKey": {}})
    assert configs[open_id] == ("generic-webhook", {})
    assert configs[github_id] == ("github", {})
    assert "No signing secret: requests are not verified" in page
    with hookline.client() as admin:
        url = admin.get(f"/ingest/api/v1/source/{key_id}").json()["ingestUrl"]
    assert httpx.post(url, content=b"{}", timeout=30).status_code == 401
    assert httpx.post(url, content=b"{}", headers={"X-API-Key": "k"}, timeout=30).status_code == 200


def test_a_refused_new_source_keeps_what_was_typed_and_makes_nothing(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):

        def post(**fields: str) -> Shown:
            return refused(client.post("/ui/sources", data={"csrf_token": token, **fields}))

        # A provider's secret may wait (test_source_awaiting_secret.py); an HMAC scheme's is the user's choice.
        shown = post(
            name=f"Forms {HOSTILE}",
            type="generic-webhook",
            verification="hmac",
            secret="",
            hmac_header="X-Signature",
            destination="https://crm.example.org/in",
        )
        assert shown.errors == {"src-secret": "Signing secret is required."}
        assert shown.values["src-name"] == f"Forms {HOSTILE}" and shown.values["src-type"] == "generic-webhook"
        assert shown.values["src-destination"] == "https://crm.example.org/in"
        assert shown.invalid == ["src-secret"] and shown.autofocus == ["src-secret"]
        assert shown.alerts == ["Not created. Check the field marked below: what you typed is kept."]

        header = post(name="crm", type="generic-webhook", verification="hmac", secret="s", hmac_header=" ")
        assert header.errors == {"src-hmac-header": "Signature header is required."}
        assert header.values["src-verification"] == "hmac"
        password = post(name="crm", type="generic-webhook", verification="basic-auth", username="u", password="")
        assert password.errors == {"src-password": "Password is required."}
        key = post(name="crm", type="generic-webhook", verification="api-key", api_key="")
        assert key.errors == {"src-api-key": "API key is required."}

        destination = post(name="gh", type="github", destination="crm.example.org/in")
        assert destination.errors == {
            "src-destination": "The destination URL must start with https:// or http:// and a host name "
            "(write it like https://crm.example.org/webhooks)."
        }
        assert post(name="  ", type="github").errors == {"src-name": "Name is required."}
        assert post(name="x", type="adobe-sign").errors["src-type"].startswith("Type 'adobe-sign' is not supported")
        scheme = post(name="x", type="generic-webhook", verification="magic")
        assert scheme.errors == {
            "src-verification": "Choose how requests are verified: none, HMAC signature, basic auth or API key."
        }
        # CSRF first, as on every form: no token, no form back.
        forged = client.post("/ui/sources", data={"csrf_token": "forged", "name": "x", "type": "github"})
        assert forged.status_code == 403
    assert sources(hookline) == []  # nothing was made


def test_destinations_are_added_with_their_settings_refused_as_typed_and_removed(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {}}).json()
    page_url = f"/ui/sources/{source['id']}"
    with signed_in(hookline) as (client, token):
        assert 'data-testid="destinations-empty"' in client.get(page_url).text
        # The checkbox unticked: the hidden "off" is all the form posts.
        add = {"url": "https://ci.example.org/hooks", "event_types": "push, issues", "path_forwarding": "off"}
        resp = client.post(f"{page_url}/destinations", data={"csrf_token": token, **add})
        assert resp.status_code == 303 and resp.headers["location"] == f"{page_url}#destinations"
        # Ticked: the checkbox's "on" follows the hidden "off", and wins.
        ticked = {"csrf_token": token, "url": "https://crm.example.org/in", "path_forwarding": ["off", "on"]}
        assert client.post(f"{page_url}/destinations", data=ticked).status_code == 303
        added = {d["url"]: d for d in destinations(hookline, source["id"])}
        assert added["https://ci.example.org/hooks"]["eventTypes"] == ["push", "issues"]
        assert added["https://ci.example.org/hooks"]["pathForwardingDisabled"] is True
        assert added["https://crm.example.org/in"]["pathForwardingDisabled"] is False
        assert added["https://crm.example.org/in"]["eventTypes"] is None
        page = client.get(page_url).text
        assert "<dt>Event types</dt><dd>push, issues</dd>" in page
        assert "not forwarded: requests go to this URL as it is" in page
        assert "<dt>Event types</dt><dd>all</dd>" in page

        bad = {"url": "https://x.example/hook", "event_types": f"push, bad type!{HOSTILE}", "path_forwarding": "off"}
        resp = client.post(f"{page_url}/destinations", data={"csrf_token": token, **bad})
        shown = refused(resp)
        assert list(shown.errors) == ["dest-types"] and "does not." in shown.errors["dest-types"]
        assert shown.values["dest-url"] == bad["url"] and shown.values["dest-types"] == bad["event_types"]
        assert not re.search(r'id="dest-path"[^>]*checked', resp.text)  # left unticked, as it was
        assert re.search(r'id="dest-path"[^>]*checked', client.get(page_url).text)  # ticked on a new form
        assert len(destinations(hookline, source["id"])) == 2

        ci = added["https://ci.example.org/hooks"]["id"]
        remove = f"{page_url}/destinations/{ci}/remove"
        assert client.post(remove, data={"csrf_token": "forged"}).status_code == 403
        assert [d["id"] for d in destinations(hookline, source["id"])].count(ci) == 1
        resp = client.post(remove, data={"csrf_token": token})
        assert resp.status_code == 303 and resp.headers["location"] == f"{page_url}#destinations"
        assert [d["url"] for d in destinations(hookline, source["id"])] == ["https://crm.example.org/in"]
        gone = client.post(remove, data={"csrf_token": token})
        assert gone.status_code == 404 and "There is no such destination." in gone.text


def test_a_destination_of_another_source_cannot_be_removed_from_this_one(hookline: Hookline) -> None:
    with hookline.client() as admin:
        one = admin.post("/ingest/api/v1/source", json={"name": "one", "type": "github", "config": {}}).json()
        other = admin.post(
            "/ingest/api/v1/source",
            json={"name": "other", "type": "github", "config": {}, "destinations": [{"url": "https://o.example/"}]},
        ).json()
    [theirs] = destinations(hookline, other["id"])
    with signed_in(hookline) as (client, token):
        resp = client.post(f"/ui/sources/{one['id']}/destinations/{theirs['id']}/remove", data={"csrf_token": token})
        assert resp.status_code == 404 and "There is no such destination." in resp.text
    assert [d["id"] for d in destinations(hookline, other["id"])] == [theirs["id"]]


def test_the_signing_secret_is_changed_and_the_rest_of_the_scheme_kept(hookline: Hookline) -> None:
    config = {"hmac": {"secret": "old", "header": "X-Sig", "prefix": "sha256=", "template": "v1:{body}"}}
    with hookline.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "crm", "type": "generic-webhook", "config": config})
        source_json = source.json()
    page_url = f"/ui/sources/{source_json['id']}"
    with signed_in(hookline) as (client, token):
        page = client.get(page_url).text
        shown = read(page)
        # The form shows what is stored, never the secret.
        assert shown.values["verify-verification"] == "hmac" and shown.values["verify-hmac-header"] == "X-Sig"
        assert shown.values["verify-hmac-prefix"] == "sha256=" and shown.values["verify-secret"] == ""
        form = {
            k.removeprefix("verify-").replace("-", "_"): v for k, v in shown.values.items() if k.startswith("verify-")
        }
        # What the browser posts besides: the scheme's settings the form keeps hidden.
        kept = dict(re.findall(r'<input type="hidden" name="(hmac_[a-z]+)" value="([^"]*)">', page))
        assert kept == {"hmac_template": "v1:{body}"}
        form.update(kept)
        form["secret"] = ""
        empty = refused(client.post(f"{page_url}/verification", data={"csrf_token": token, **form}))
        assert empty.errors == {"verify-secret": "Signing secret is required."}
        form["secret"] = "new"
        resp = client.post(f"{page_url}/verification", data={"csrf_token": token, **form})
        assert resp.status_code == 303 and resp.headers["location"] == f"{page_url}#verification"
    [stored] = sources(hookline)
    assert stored["config"] == {
        "hmac": {
            "header": "X-Sig",
            "prefix": "sha256=",
            "template": "v1:{body}",
            "algorithm": "sha256",
            "encoding": "hex",
        }
    }
    body = b'{"gift": 25}'
    signed = hmac.new(b"new", b"v1:" + body, hashlib.sha256).hexdigest()
    sent = httpx.post(source_json["ingestUrl"], content=body, headers={"X-Sig": f"sha256={signed}"}, timeout=30)
    assert sent.status_code == 200, sent.text


def test_rotating_the_url_shows_the_new_one_and_the_old_keeps_working(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {}}).json()
    page_url = f"/ui/sources/{source['id']}"
    with signed_in(hookline) as (client, token):
        assert client.post(f"{page_url}/rotate-token", data={"csrf_token": "forged"}).status_code == 403
        [same] = sources(hookline)
        assert same["ingestUrl"] == source["ingestUrl"]
        resp = client.post(f"{page_url}/rotate-token", data={"csrf_token": token})
        assert resp.status_code == 303 and resp.headers["location"] == f"{page_url}?rotated#ingest-url"
        [rotated] = sources(hookline)
        assert rotated["ingestUrl"] != source["ingestUrl"]
        page = client.get(resp.headers["location"]).text
        assert f'data-testid="ingest-url" x-ref="text">{rotated["ingestUrl"]}</pre>' in page
        assert "This is the new URL. The previous one keeps working for 24 hours" in page
        assert 'data-testid="rotated"' not in client.get(page_url).text
    for url in (source["ingestUrl"], rotated["ingestUrl"]):
        assert httpx.post(url, content=b"{}", timeout=30).status_code == 200


def test_deleting_a_source_ends_its_url(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {}}).json()
    page_url = f"/ui/sources/{source['id']}"
    with signed_in(hookline) as (client, token):
        assert client.post(f"{page_url}/delete", data={}).status_code == 403
        assert len(sources(hookline)) == 1
        resp = client.post(f"{page_url}/delete", data={"csrf_token": token})
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/sources"
        assert client.get(page_url).status_code == 404
        again = client.post(f"{page_url}/delete", data={"csrf_token": token})
        assert again.status_code == 404 and "There is no such source." in again.text
    assert sources(hookline) == []
    assert httpx.post(source["ingestUrl"], content=b"{}", timeout=30).status_code == 404


def test_source_forms_need_a_dashboard_session(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {}}).json()
    with httpx.Client(base_url=hookline.url, timeout=30) as stranger:
        for path in ("", f"/{source['id']}/delete", f"/{source['id']}/rotate-token", f"/{source['id']}/destinations"):
            resp = stranger.post(
                f"/ui/sources{path}", data={"name": "x", "type": "github", "url": "https://x.example/"}
            )
            assert resp.status_code == 303 and resp.headers["location"] == "/ui/login", path
    [still] = sources(hookline)
    assert still["ingestUrl"] == source["ingestUrl"] and destinations(hookline, source["id"]) == []
