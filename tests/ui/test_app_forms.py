"""The endpoint page's forms over HTTP, as the operator posts them: each change reaches the API's
view of the endpoint, and bad input is a 400 naming the field (tests/ui/test_refused_forms.py
shows the refused forms themselves)."""

import re

import httpx
import pytest
from tests.support.api import make_endpoint
from tests.support.servers import Hookline, wait_until
from tests.ui.support import csrf_token, signed_in


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    # The forms call the same services as the API, whose storage runs on both databases elsewhere.
    return f"sqlite:///{tmp_path}/hookline.db"


def test_endpoint_forms_edit_headers_throttle_state_secret_and_delete(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    with signed_in(hookline) as (client, token), hookline.client() as api:

        def post(action: str, **data: str) -> int:
            return client.post(f"{page_url}/{action}", data={"csrf_token": token, **data}).status_code

        edit = {"url": "https://two.example/hook", "description": "<b>CRM</b>", "event_types": "a.b, c.d"}
        assert post("edit", **edit, throttle_rate="5", channels="") == 303
        got = api.get(f"/api/v1/app/acme/endpoint/{ep}").json()
        assert got["url"] == "https://two.example/hook"
        assert got["throttleRate"] == 5 and got["eventTypes"] == ["a.b", "c.d"]
        assert "&lt;b&gt;CRM&lt;/b&gt;" in client.get(page_url).text
        bad = client.post(f"{page_url}/edit", data={"csrf_token": token, **edit, "throttle_rate": "fast"})
        assert bad.status_code == 400 and "The throttle must be a whole number" in bad.text
        assert post("headers", headers="X-Team: donations\nX-Env: prod") == 303
        assert api.get(f"/api/v1/app/acme/endpoint/{ep}/headers").json()["headers"] == {
            "X-Team": "donations",
            "X-Env": "prod",
        }
        assert post("headers", headers="no colon here") == 400
        refused = client.post(f"{page_url}/headers", data={"csrf_token": token, "headers": "Host: internal.example"})
        assert refused.status_code == 400 and "Host cannot be a custom header" in refused.text
        assert ">Host: internal.example</textarea>" in refused.text  # the form, as typed
        assert post("state", disabled="true") == 303
        assert api.get(f"/api/v1/app/acme/endpoint/{ep}").json()["disabled"] is True
        assert post("state", disabled="false") == 303
        before = api.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"]
        assert post("rotate-secret") == 303
        after = api.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"]
        assert after != before
        shown = client.get(page_url, params={"secret": "show"}).text
        assert after in shown
        # The page's token works, a made-up one does not.
        assert csrf_token(shown) == token
        assert client.post(f"{page_url}/delete", data={"csrf_token": "forged"}).status_code == 403
        assert post("delete") == 303
        assert api.get(f"/api/v1/app/acme/endpoint/{ep}").status_code == 404
        gone = client.get(page_url)
        assert gone.status_code == 404
        assert re.search(r"no such endpoint", gone.text)


def test_saving_the_headers_form_replaces_the_set_and_keeps_hidden_credentials(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
        path = f"/api/v1/app/acme/endpoint/{ep}/headers"
        assert api.put(path, json={"headers": {"X-Ok": "1", "Authorization": "Bearer s3cret"}}).status_code == 204
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    with signed_in(hookline) as (client, token), hookline.client() as api:

        def save(text: str) -> httpx.Response:
            return client.post(f"{page_url}/headers", data={"csrf_token": token, "headers": text})

        def stored() -> dict[str, object]:
            return dict(api.get(path).json())

        assert "X-Ok: 1" in client.get(page_url).text
        assert save("X-Only: 1").status_code == 303
        assert stored() == {"headers": {"X-Only": "1"}, "sensitive": ["Authorization"]}
        # Naming a hidden header in the form replaces its value; an empty form clears what it showed.
        assert save("X-Only: 1\nauthorization: Bearer new").status_code == 303
        assert stored() == {"headers": {"X-Only": "1"}, "sensitive": ["authorization"]}
        assert save("").status_code == 303
        assert stored() == {"headers": {}, "sensitive": ["authorization"]}
        for text, line in [("X-A: 1\nX-A: 2", "line 2"), ("X-B: 1\n\nx-b: 2", "line 3")]:
            twice = save(text)
            assert twice.status_code == 400, text
            assert f"{line.capitalize()} names" in twice.text and "already on line 1" in twice.text
        assert stored() == {"headers": {}, "sensitive": ["authorization"]}


def test_odd_form_values_get_a_400_not_a_500(hookline: Hookline) -> None:
    """Found by fuzzing the dashboard: each of these answered 500."""
    with hookline.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
    page_url = f"/ui/apps/{app_id}/endpoints/{ep}"
    with httpx.Client(base_url=hookline.url, timeout=30) as anonymous:
        anonymous.get("/ui/login")
        # compare_digest refuses a str that is not ASCII: the token check raised.
        refused = anonymous.post("/ui/login", data={"token": "x", "csrf_token": "\u00e9"})
        assert refused.status_code == 403, refused.text
    with signed_in(hookline) as (client, token):
        assert client.post(f"{page_url}/state", data={"csrf_token": "\u00e9", "disabled": "true"}).status_code == 403
        edit = {"csrf_token": token, "url": "https://one.example/hook", "throttle_rate": "\u00b2"}
        squared = client.post(f"{page_url}/edit", data=edit)  # "²".isdigit(), but int() refuses it
        assert squared.status_code == 400 and "The throttle must be a whole number" in squared.text
        huge = client.post(f"{page_url}/edit", data={**edit, "throttle_rate": "9" * 5000})
        assert huge.status_code == 400
        example = client.post(f"{page_url}/test", data={"csrf_token": token, "event_type": "a" * 300})
        assert example.status_code == 400 and "Event type names may use letters" in example.text
        odd_referer = client.post(
            f"{page_url}/state", data={"csrf_token": token, "disabled": "maybe"}, headers={"Referer": "http://[::1"}
        )
        assert odd_referer.status_code == 400
        before_1970 = client.get(f"/ui/apps/{app_id}/messages", params={"since": "1960-01-01T00:00"})
        assert before_1970.status_code == 200


def test_a_captured_body_escaping_half_a_surrogate_pair_shows(hookline: Hookline) -> None:
    with hookline.client() as api:
        bin_ = api.post("/api/v1/inspect", json={}).json()
    assert httpx.post(bin_["url"], content=b'{"a":"\\ud800"}').status_code == 200
    assert httpx.post(bin_["url"], content=b"[" * 50000 + b"]" * 50000).status_code == 200
    with signed_in(hookline) as (client, _token):
        page = client.get(f"/ui/bins/{bin_['id']}")
        assert page.status_code == 200, page.text
        assert "\\ud800" in page.text


def test_an_application_with_many_endpoints_lists_them_all_page_by_page(hookline: Hookline) -> None:
    with hookline.client() as api:
        for number in range(53):
            app_id, _ = make_endpoint(api, f"https://many.example/{number}", app_uid="many")
    with signed_in(hookline) as (client, _):
        first = client.get(f"/ui/apps/{app_id}/")
        urls = re.findall(r"https://many\.example/(\d+)", first.text)
        assert len(urls) == 50
        assert 'data-testid="endpoint-count">50+<' in first.text  # not "50": there are more
        later = re.search(r'href="([^"]+\?after=[^"]+)">Next endpoints<', first.text)
        assert later, "no way to the endpoints after the first 50"
        second = client.get(later.group(1).replace("&amp;", "&"))
        assert second.status_code == 200
        rest = re.findall(r"https://many\.example/(\d+)", second.text)
        assert sorted(map(int, urls + rest)) == list(range(53))
        assert "Next endpoints" not in second.text and "First endpoints" in second.text
        for bad in ("%00", "x" * 65, "-ep_1", "a%20b"):
            refused = client.get(f"/ui/apps/{app_id}/?after={bad}")
            assert refused.status_code == 400 and "not an endpoint id" in refused.text, bad


def test_a_job_started_on_the_endpoint_page_starts_at_once(hookline_factory) -> None:  # type: ignore[no-untyped-def]
    """The recover and replay forms woke no job runner, as the API does: the job waited for the
    runner's next poll (here 30 s; 1 s by default)."""
    with hookline_factory(poll_interval=30.0) as hl, hl.client() as api:
        app_id, ep = make_endpoint(api, "https://one.example/hook", app_uid="acme")
        with signed_in(hl) as (client, token):
            for kind in ("recover", "replay-missing", "bulk-replay"):
                started = client.post(
                    f"/ui/apps/{app_id}/endpoints/{ep}/recover",
                    data={"csrf_token": token, "kind": kind, "since": "2026-01-01T00:00"},
                )
                assert started.status_code == 303, started.text
                task_id = started.headers["location"].rsplit("/", 1)[1]
                wait_until(
                    lambda task_id=task_id: (
                        api.get(f"/api/v1/background-task/{task_id}").json()["status"] == "finished"
                    ),
                    10,
                    f"the {kind} job to finish",
                )
