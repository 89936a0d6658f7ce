"""A form the schemas or use-cases refuse comes back as it was typed (escaped), with a plain
sentence under the field it is about; the JSON API's error bodies stay as they were."""

import httpx
import pytest
from tests.support.api import make_endpoint, publish
from tests.support.servers import Hookline
from tests.ui.forms import Shown, read
from tests.ui.support import csrf_token, open_portal, portal_link, signed_in

HOSTILE = '"><script>alert(1)</script>'
VALIDATOR_WORDS = ("String should", "Input should", "Value error", "List should", "^[", "body.", "event_types.0")


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    # The pages call the same services as the API, whose storage runs on both databases elsewhere.
    return f"sqlite:///{tmp_path}/hookline.db"


def refused(resp: httpx.Response) -> Shown:
    """The refused page as a browser shows it, after checking it says nothing in a validator's words
    and runs none of what was typed."""
    assert resp.status_code == 400, resp.text
    assert "<script>alert(1)" not in resp.text
    shown = read(resp.text)
    said = " ".join([*shown.errors.values(), *shown.alerts])
    for words in VALIDATOR_WORDS:
        assert words not in said, said
    return shown


def test_a_refused_application_keeps_its_name_and_says_what_an_id_may_hold(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):
        resp = client.post("/ui/apps", data={"csrf_token": token, "name": f"Acme {HOSTILE}", "uid": "acme corp"})
        shown = refused(resp)
        assert shown.values["app-name"] == f"Acme {HOSTILE}"
        assert shown.values["app-uid"] == "acme corp"
        assert shown.errors == {
            "app-uid": "Your own id may use letters, digits, '-', '_' and '.', up to 256 characters, not only dots."
        }
        assert shown.invalid == ["app-uid"] and shown.autofocus == ["app-uid"]
        assert shown.alerts == ["Not saved. Check the field marked below: what you typed is kept."]
        empty = refused(client.post("/ui/apps", data={"csrf_token": token, "name": "  ", "uid": "acme"}))
        assert empty.errors == {"app-name": "Name is required."} and empty.values["app-uid"] == "acme"
        assert client.post("/ui/apps", data={"csrf_token": token, "name": "Acme", "uid": "acme"}).status_code == 303
        taken = refused(client.post("/ui/apps", data={"csrf_token": token, "name": "Acme again", "uid": "acme"}))
        assert taken.errors == {
            "app-uid": "Another application already has this id: choose another, or leave it empty."
        }
        assert taken.values["app-name"] == "Acme again"


def test_a_refused_new_endpoint_keeps_every_field_and_names_the_bad_event_type(hookline: Hookline) -> None:
    with hookline.client() as api:
        app = api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).json()
        # The API's own answer is unchanged: the svix SDKs read it.
        api_body = api.post(
            "/api/v1/app/acme/endpoint", json={"url": "https://ok.example/hook", "eventTypes": ["bad type!"]}
        ).json()
    assert "String should match pattern" in str(api_body)
    typed = {"url": "https://ok.example/hook", "description": HOSTILE, "event_types": "donation.created, bad type!"}
    with signed_in(hookline) as (client, token):
        shown = refused(client.post(f"/ui/apps/{app['id']}/endpoints", data={"csrf_token": token, **typed}))
        assert {k: shown.values[k] for k in ("ep-url", "ep-description", "ep-types")} == {
            "ep-url": typed["url"],
            "ep-description": HOSTILE,
            "ep-types": typed["event_types"],
        }
        assert shown.errors == {
            "ep-types": "Event type names may use letters, digits, '-', '_' and '.'; “bad type!” does not."
        }
        no_scheme = {**typed, "url": "ok.example/hook", "event_types": "x" * 300}
        both = refused(client.post(f"/ui/apps/{app['id']}/endpoints", data={"csrf_token": token, **no_scheme}))
        assert both.values["ep-url"] == "ok.example/hook"
        assert both.errors["ep-url"] == (
            "The URL must start with https:// or http:// and a host name (write it like https://example.com/webhooks)."
        )
        assert both.errors["ep-types"] == (
            f"Event type names may be at most 256 characters long; “{'x' * 39}…” has 300."
        )
        assert both.autofocus == ["ep-url"]  # the first field to put right
        assert "Check the 2 fields marked below" in both.alerts[0]
    with hookline.client() as api:
        assert api.get("/api/v1/app/acme/endpoint").json()["data"] == []  # nothing was made


def test_refused_endpoint_settings_keep_what_was_typed_not_what_is_stored(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://stored.example/hook", app_uid="acme")
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    edit = {
        "url": "https://typed.example/hook",
        "description": "typed",
        "event_types": "a.b",
        "channels": ", ".join(f"c{n}" for n in range(11)),
        "throttle_rate": "0",
    }
    with signed_in(hookline) as (client, token), hookline.client() as api:
        shown = refused(client.post(f"{page_url}/edit", data={"csrf_token": token, **edit}))
        assert shown.values["edit-url"] == "https://typed.example/hook"
        assert shown.values["edit-channels"] == edit["channels"] and shown.values["edit-throttle"] == "0"
        assert shown.errors == {
            "edit-channels": "At most 10 channels may be listed; this lists 11.",
            "edit-throttle": "The throttle must be at least 1; leave it empty for no limit.",
        }
        assert api.get(f"/api/v1/app/acme/endpoint/{ep}").json()["url"] == "https://stored.example/hook"
        # The other forms of the page show what is stored, untouched by the refusal.
        assert shown.values["test-type"] == "svix.ping"
        too_fast = refused(
            client.post(
                f"{page_url}/edit", data={"csrf_token": token, **edit, "channels": "", "throttle_rate": "70000"}
            )
        )
        assert too_fast.errors == {"edit-throttle": "The throttle must be at most 65535; leave it empty for no limit."}
        bad_channel = refused(
            client.post(
                f"{page_url}/edit", data={"csrf_token": token, **edit, "channels": "eu west", "throttle_rate": ""}
            )
        )
        assert bad_channel.errors == {
            "edit-channels": "Channel names may use letters, digits, '-', '_' and '.'; “eu west” does not."
        }


def test_refused_headers_keep_the_typed_lines_and_say_which_one_is_wrong(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
        assert (
            api.put(f"/api/v1/app/acme/endpoint/{ep}/headers", json={"headers": {"X-Stored": "1"}}).status_code == 204
        )
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}/headers"
    with signed_in(hookline) as (client, token):
        cases = {
            "X-Team: donations\nX Bad: 1": "Header names may use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ "
            "(no spaces); “X Bad” does not.",
            "X-Team: donations\nno colon here": "Line 2 has no colon: write each header as Name: value, one a line.",
            "Host: internal.example": "Host cannot be a custom header: hookline sets it on every delivery.",
            f"X-Long: {'v' * 5000}": "The value of X-Long may be at most 4096 characters long; this one has 5000.",
        }
        for text, message in cases.items():
            shown = refused(client.post(page_url, data={"csrf_token": token, "headers": text}))
            assert shown.values["edit-headers"] == text
            assert shown.errors == {"edit-headers": message}, text
        script = refused(client.post(page_url, data={"csrf_token": token, "headers": f"X-Html {HOSTILE}"}))
        assert script.values["edit-headers"] == f"X-Html {HOSTILE}"


def test_a_refused_test_event_and_replay_keep_the_typed_values(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    with signed_in(hookline) as (client, token):
        shown = refused(client.post(f"{page_url}/test", data={"csrf_token": token, "event_type": "-gift made"}))
        assert shown.values["test-type"] == "-gift made"
        assert shown.errors == {
            "test-type": "Event type names may use letters, digits, '-', '_' and '.', up to 256 characters, "
            "not starting with '-' and not only dots."
        }
        assert shown.alerts == ["Not sent. Check the field marked below: what you typed is kept."]
        replay = refused(
            client.post(f"{page_url}/recover", data={"csrf_token": token, "since": "last week", "kind": "bulk-replay"})
        )
        assert replay.values["recover-since"] == "last week" and replay.values["recover-kind"] == "bulk-replay"
        assert replay.errors == {"recover-since": "Since must be a date and time, such as 2025-01-31 09:30 (UTC)."}


def test_a_test_event_of_a_type_that_does_not_exist_is_refused_and_the_ping_is_sent(hookline: Hookline) -> None:
    # A typo ("invoice.piad") used to send the endpoint a made-up event of that type.
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
        assert api.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "d"}).status_code == 201
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    with signed_in(hookline) as (client, token):
        shown = refused(client.post(f"{page_url}/test", data={"csrf_token": token, "event_type": "invoice.piad"}))
        assert shown.values["test-type"] == "invoice.piad"
        assert list(shown.errors) == ["test-type"] and "invoice.piad" in shown.errors["test-type"]
        for name in ("invoice.paid", "svix.ping"):
            sent = client.post(f"{page_url}/test", data={"csrf_token": token, "event_type": name})
            assert sent.status_code == 303, sent.text
    with hookline.client() as api:
        listed = api.get("/api/v1/app/acme/msg").json()["data"]
    assert sorted(m["eventType"] for m in listed) == ["invoice.paid", "svix.ping"]


def test_a_refused_change_of_the_whole_form_says_why_above_it(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
        msg = publish(api, "acme")
        assert api.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"disabled": True}).status_code == 200
    with signed_in(hookline) as (client, token):
        sent = refused(
            client.post(f"/ui/apps/{app_id}/endpoints/{ep}/test", data={"csrf_token": token, "event_type": "a.b"})
        )
        assert sent.errors == {}
        assert sent.alerts == [f"Not sent. Endpoint {ep} is disabled: enable it first."]
        assert sent.values["test-type"] == "a.b"
        again = refused(
            client.post(f"/ui/apps/{app_id}/messages/{msg}/resend", data={"csrf_token": token, "endpoint_id": ep})
        )
        assert again.alerts == [f"Not sent. Endpoint {ep} is disabled: enable it first."]


def test_a_refused_messages_filter_keeps_the_filters_and_names_the_date(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, _ = make_endpoint(api, "https://one.example/hook", app_uid="acme")
    with signed_in(hookline) as (client, _token):
        params = {"event_type": "gift.made", "since": "yesterday", "search": HOSTILE}
        shown = refused(client.get(f"/ui/apps/{app_id}/messages", params=params))
        assert shown.values["filter-since"] == "yesterday"
        assert shown.errors == {"filter-since": "From must be a date and time, such as 2025-01-31 09:30 (UTC)."}
        assert shown.alerts == ["Not filtered. Check the field marked below: what you typed is kept."]


def test_the_portal_refuses_a_form_the_same_way(hookline: Hookline) -> None:
    with hookline.client() as api:
        make_endpoint(api, "https://own.example/hook", app_uid="acme")
        url = portal_link(api, "acme")
    with httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, url).status_code == 303
        token = csrf_token(tenant.get("/portal/").text)
        typed = {"url": "https://new.example/hook", "description": HOSTILE, "event_types": "ok, not ok"}
        resp = tenant.post("/portal/endpoints", data={"csrf_token": token, **typed})
        shown = refused(resp)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]  # still the portal's page
        assert shown.values["ep-description"] == HOSTILE and shown.values["ep-types"] == "ok, not ok"
        assert shown.errors == {
            "ep-types": "Event type names may use letters, digits, '-', '_' and '.'; “not ok” does not."
        }
        # CSRF is checked first, as before: no token, no form back.
        assert tenant.post("/portal/endpoints", data=typed).status_code == 403
