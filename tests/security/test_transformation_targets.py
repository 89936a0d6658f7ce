"""An endpoint's transformation is the tenant's code, and it may change where a delivery goes and
what headers it carries. It must not send where the tenant could not point an endpoint: the URL
rules (HOOKLINE_ENDPOINT_HTTPS_ONLY, no user:password@, no control characters...) hold for the
transformed URL too, and the headers an endpoint may not carry (those that frame or carry the
request) it may not add. The SSRF guard judges the transformed URL's address as any other
(tests/delivery)."""

from typing import Any

import pytest
from svix import Svix, SvixOptions
from svix.models import EndpointTransformationPatch
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import ADMIN_TOKEN, Receiver


def _transform(hookline: Any, app: str, ep: str, code: str) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    svix.endpoint.transformation.patch(app, ep, EndpointTransformationPatch(code=code, enabled=True))


def test_https_only_holds_for_a_transformed_url(hookline_factory, receiver: Receiver) -> None:
    plain = receiver.url("/plain-http")
    code = f'function handler(webhook) {{ webhook.url = "{plain}"; return webhook; }}'
    settings = {"endpoint_https_only": True, "transform_timeout": 5.0, "retry_schedule": (60,)}
    with hookline_factory(**settings) as hookline, hookline.client() as c:
        # The tenant could not point the endpoint there...
        assert c.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
        assert c.post("/api/v1/app/acme/endpoint", json={"url": plain}).status_code == 422
        app, ep = make_endpoint(c, "https://127.0.0.1:9/hook")
        # ...nor may its code send there.
        _transform(hookline, app, ep, code)
        publish(c, "acme", "invoice.paid")
        attempt = wait_attempts(c, "acme", ep, 1, timeout=60)[0]
        assert receiver.requests == [], "sent over plain http"
        assert attempt["responseStatusCode"] == 0 and "https" in attempt["error"], attempt
        assert "nothing was sent" in attempt["error"]
        sim = c.post(
            f"/api/v1/app/acme/endpoint/{ep}/transformation/simulate", json={"eventType": "a.b", "payload": {}}
        )
        assert sim.status_code == 200 and sim.json()["ok"] is False, sim.text
        assert "https" in sim.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ('webhook.url = "http://user:secret@example.com/hook"', "user name or password"),
        ('webhook.url = "http://example.com/a b"', "whitespace"),
        ('webhook.url = "http://2130706433/hook"', "2130706433"),
        ('webhook.headers["Transfer-Encoding"] = "chunked"', "Transfer-Encoding"),
        ('webhook.headers["Connection"] = "Upgrade"', "Connection"),
        ('webhook.headers["Proxy-Authorization"] = "Basic eDp5"', "Proxy-Authorization"),
        ('webhook.headers["Content-Encoding"] = "gzip"', "Content-Encoding"),
    ],
)
def test_a_transformation_is_held_to_the_endpoint_rules(hookline, change: str, said: str) -> None:
    code = f"function handler(webhook) {{ {change}; return webhook; }}"
    with hookline.client() as c:
        _app, ep = make_endpoint(c, "https://example.com/hook")
        path = f"/api/v1/app/acme/endpoint/{ep}/transformation/simulate"
        sim = c.post(path, json={"code": code, "eventType": "a.b", "payload": {}})
        assert sim.status_code == 200, sim.text
        assert sim.json()["ok"] is False, sim.json()
        assert sim.json()["error"]["kind"] == "invalid" and said in sim.json()["error"]["message"], sim.json()
        # What an endpoint may carry still passes.
        fine = 'function handler(w) { w.url = w.url + "/v2"; w.headers["X-Tenant"] = "acme"; return w; }'
        ok = c.post(path, json={"code": fine, "eventType": "a.b", "payload": {}})
        assert ok.json()["ok"] is True and ok.json()["headers"] == {"X-Tenant": "acme"}, ok.json()
