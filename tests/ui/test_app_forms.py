"""The endpoint page's forms over HTTP, as the operator posts them: each change reaches the API's
view of the endpoint, and bad input is a 400 naming the field."""

import re

import pytest
from tests.support.api import make_endpoint
from tests.support.servers import Hookline
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
        assert bad.status_code == 400 and "throttle_rate" in bad.text
        assert post("headers", headers="X-Team: donations\nX-Env: prod") == 303
        assert api.get(f"/api/v1/app/acme/endpoint/{ep}/headers").json()["headers"] == {
            "X-Team": "donations",
            "X-Env": "prod",
        }
        assert post("headers", headers="no colon here") == 400
        refused = client.post(f"{page_url}/headers", data={"csrf_token": token, "headers": "Host: internal.example"})
        assert refused.status_code == 400 and "Host cannot be a custom header" in refused.text
        assert 'data-testid="error-back"' not in refused.text  # no Referer: nowhere to name
        # The browser names the form's page (Referrer-Policy: same-origin): the error links back to it.
        for referer, back in [
            (f"{hookline.url}{page_url}?tab=headers", f'href="{page_url}?tab=headers"'),
            (f"https://elsewhere.example{page_url}", None),
            (f"{hookline.url}/api/v1/app", None),
        ]:
            again = client.post(
                f"{page_url}/headers",
                data={"csrf_token": token, "headers": "Host: internal.example"},
                headers={"Referer": referer},
            )
            assert again.status_code == 400
            assert (back is not None) == ('data-testid="error-back"' in again.text), referer
            assert back is None or back in again.text
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
