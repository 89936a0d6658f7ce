"""Endpoint transformations on a real server: set through the svix SDK's calls, applied in
the send path (what is sent and signed is the transformed request, and the attempt records
it), failures confined to their own attempt, cancel, simulate, and the size limit."""

import json
from typing import Any

import pytest
import standardwebhooks
from svix import Svix, SvixOptions
from svix.models import EndpointTransformationPatch
from tests.support.api import attempts, make_endpoint, publish, wait_attempts
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until

RESHAPE = """
function handler(webhook) {
  webhook.payload.added = "by-transformation";
  webhook.payload.kind = webhook.eventType;
  webhook.url = webhook.url.replace("/hook", "/hook/v2");
  webhook.headers["X-Transformed"] = "yes";
  return webhook;
}
"""
LOOP = "function handler(webhook) { while (true) {} }"
ALLOCATE = (
    "function handler(webhook) { webhook.payload.big = new Uint8Array(1024 * 1024 * 1024).fill(1); return webhook; }"
)
CANCEL = "function handler(webhook) { webhook.cancel = webhook.payload.skip === true; return webhook; }"


def _svix(hookline: Any) -> Svix:
    return Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))


def test_transformed_request_is_sent_signed_and_recorded(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(transform_timeout=5.0) as hookline, hookline.client() as c:
        app, ep = make_endpoint(c, receiver.url("/hook"), headers={"X-Custom": "kept"})
        svix = _svix(hookline)
        assert svix.endpoint.transformation.get(app, ep).enabled is False
        svix.endpoint.transformation.patch(app, ep, EndpointTransformationPatch(code=RESHAPE, enabled=True))
        got = svix.endpoint.transformation.get(app, ep)
        assert (got.code, got.enabled, got.variables) == (RESHAPE, True, None)

        msg = publish(c, "acme", "invoice.paid", payload={"amount": 42})
        delivered = receiver.wait_for(1, timeout=60)[0]
        assert delivered.path == "/hook/v2"
        assert delivered.headers["x-transformed"] == "yes" and delivered.headers["x-custom"] == "kept"
        body = json.loads(delivered.body)
        assert body == {"amount": 42, "added": "by-transformation", "kind": "invoice.paid"}
        secret = c.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"]
        standardwebhooks.Webhook(secret).verify(delivered.body, delivered.headers)
        assert delivered.headers["webhook-id"] == msg

        attempt = wait_attempts(c, "acme", ep, 1)[0]
        assert attempt["url"] == receiver.url("/hook/v2") and attempt["status"] == 0
        assert attempt["transformedRequest"] == {
            "method": "POST",
            "url": receiver.url("/hook/v2"),
            "headers": {"X-Transformed": "yes"},
            "payload": body,
        }
        # Disabled: sent as published, to the endpoint's own URL.
        svix.endpoint.transformation.patch(app, ep, EndpointTransformationPatch(enabled=False))
        publish(c, "acme", "invoice.paid", payload={"amount": 7})
        plain = receiver.wait_for(2, timeout=60)[1]
        assert plain.path == "/hook" and json.loads(plain.body) == {"amount": 7}
        assert "x-transformed" not in plain.headers


def test_a_loop_or_a_huge_allocation_fails_only_its_own_attempt(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(transform_timeout=2.0, retry_schedule=(0.2,)) as hookline, hookline.client() as c:
        svix = _svix(hookline)
        eps = {}
        for name, code in (("loop", LOOP), ("alloc", ALLOCATE), ("good", RESHAPE), ("plain", None)):
            app, ep = make_endpoint(c, receiver.url(f"/{name}/hook"))
            eps[name] = ep
            if code is not None:
                svix.endpoint.transformation.patch(app, ep, EndpointTransformationPatch(code=code, enabled=True))
        for i in range(3):
            publish(c, "acme", "invoice.paid", payload={"n": i})
        # The other endpoints get every message, transformed or not.
        wait_until(
            lambda: (
                sum(r.path.startswith("/plain/") for r in receiver.requests) == 3
                and sum(r.path == "/good/hook/v2" for r in receiver.requests) == 3
            ),
            120,
            "deliveries to the plain and the good endpoints",
        )
        # Each failing one exhausts its retries with the reason on every attempt, and sends nothing.
        loops = wait_attempts(c, "acme", eps["loop"], 6, timeout=180)
        allocs = wait_attempts(c, "acme", eps["alloc"], 6, timeout=180)
        for found, kind in ((loops, "timeout"), (allocs, "memory")):
            for attempt in found:
                assert attempt["status"] == 2 and attempt["responseStatusCode"] == 0
                assert attempt["error"].startswith(f"transformation failed ({kind}): "), attempt["error"]
                assert attempt["error"].endswith("nothing was sent")
        assert "longer than 2000 ms" in loops[0]["error"]
        assert not any(r.path.startswith(("/loop", "/alloc")) for r in receiver.requests)
        wait_until(lambda: _statuses(c, eps["loop"]) == {2} and _statuses(c, eps["alloc"]) == {2}, 60, "exhausted")
        # The engine is still healthy afterwards.
        publish(c, "acme", "invoice.paid", payload={"n": 3})
        wait_until(lambda: sum(r.path.startswith("/plain/") for r in receiver.requests) == 4, 60, "one more")


def test_a_url_with_a_nul_character_is_refused_and_holds_up_nothing(hookline, receiver: Receiver) -> None:
    """What a transformation returns is anybody's text: PostgreSQL's cannot hold NUL, and one
    such attempt failed its whole batch of outcomes at every retry. A transformed URL is held to
    an endpoint URL's rules (tests/security/test_transformation_targets.py): this one fails its
    own attempt, saying why, and the endpoint beside it is delivered."""
    code = 'function handler(webhook) { webhook.url = webhook.url + "/a\\u0000b"; return webhook; }'
    with hookline.client() as c:
        _ep, odd = _odd_beside_plain(hookline, c, receiver, code)
    assert odd["responseStatusCode"] == 0 and "webhook.url contains a NUL character" in odd["error"], odd
    assert "nothing was sent" in odd["error"]
    assert [r.path for r in receiver.requests] == ["/plain"]


def _odd_beside_plain(hookline: Any, c: Any, receiver: Receiver, code: str) -> tuple[str, dict[str, Any]]:
    """One message to an endpoint transformed by ``code`` and to a plain one: the first's id
    and attempt, once both attempts are recorded (neither held up by the other)."""
    app, ep = make_endpoint(c, receiver.url("/odd"))
    _svix(hookline).endpoint.transformation.patch(app, ep, EndpointTransformationPatch(code=code, enabled=True))
    _app, plain = make_endpoint(c, receiver.url("/plain"))
    publish(c, "acme", "invoice.paid")
    (odd,) = wait_attempts(c, "acme", ep, 1, timeout=60)
    wait_attempts(c, "acme", plain, 1, timeout=60)
    return ep, odd


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ('webhook.payload = {"note": "x\\uD800"}', "webhook.payload.note"),
        ('webhook.url = webhook.url + "/\\uDC00"', "webhook.url"),
        ('webhook.headers["X-Odd"] = "\\uD800"', "webhook.headers.X-Odd"),
    ],
)
def test_a_lone_surrogate_fails_its_own_attempt_and_holds_up_nothing(
    hookline, receiver: Receiver, change: str, where: str
) -> None:
    """JavaScript strings may hold half a surrogate pair, which UTF-8 cannot write: the
    attempt fails naming it, and the endpoint next to it is delivered as usual."""
    code = f"function handler(webhook) {{ {change}; return webhook; }}"
    with hookline.client() as c:
        ep, odd = _odd_beside_plain(hookline, c, receiver, code)
        sim = c.post(
            f"/api/v1/app/acme/endpoint/{ep}/transformation/simulate",
            json={"code": code, "eventType": "a.b", "payload": {}},
        )
    assert odd["status"] == 2 and odd["responseStatusCode"] == 0, odd
    assert f"{where} holds a lone UTF-16 surrogate" in odd["error"] and "nothing was sent" in odd["error"]
    assert [r.path for r in receiver.requests] == ["/plain"]
    assert sim.status_code == 200, sim.text
    assert sim.json()["ok"] is False and f"{where} holds a lone" in sim.json()["error"]["message"]


def _statuses(c: Any, ep: str) -> set[int]:
    listed = c.get(f"/api/v1/app/acme/endpoint/{ep}/msg", params={"limit": 50}).json()["data"]
    return {m["status"] for m in listed}


def test_cancel_skips_the_delivery_and_says_why(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(transform_timeout=5.0) as hookline, hookline.client() as c:
        app, ep = make_endpoint(c, receiver.url())
        _svix(hookline).endpoint.transformation.patch(app, ep, EndpointTransformationPatch(code=CANCEL, enabled=True))
        publish(c, "acme", "invoice.paid", payload={"skip": True})
        publish(c, "acme", "invoice.paid", payload={"skip": False})
        receiver.wait_for(1, timeout=60)
        found = wait_attempts(c, "acme", ep, 2, timeout=60)
        cancelled = [a for a in found if a["transformedRequest"] == {"cancel": True}]
        assert len(cancelled) == 1
        assert cancelled[0]["status"] == 0 and "webhook.cancel" in cancelled[0]["error"]
        assert cancelled[0]["responseStatusCode"] == 0
        # Finished, not retried: two attempts in all, one request received.
        wait_until(lambda: _statuses(c, ep) == {0}, 60, "both deliveries finished")
        assert len(attempts(c, "acme", ep)) == 2 and len(receiver.requests) == 1
        assert json.loads(receiver.requests[0].body) == {"skip": False}


def test_simulate_limits_and_refusals(hookline) -> None:
    with hookline.client() as c:
        _app, ep = make_endpoint(c, "https://example.test/hook")
        path = f"/api/v1/app/acme/endpoint/{ep}/transformation"
        sim = c.post(f"{path}/simulate", json={"code": RESHAPE, "eventType": "a.b", "payload": {"x": 1}})
        assert sim.status_code == 200, sim.text
        assert sim.json() == {
            "ok": True,
            "method": "POST",
            "url": "https://example.test/hook/v2",
            "payload": {"x": 1, "added": "by-transformation", "kind": "a.b"},
            "headers": {"X-Transformed": "yes"},
            "cancel": False,
            "error": None,
        }
        broken = c.post(f"{path}/simulate", json={"code": "function handler(", "eventType": "a.b", "payload": {}})
        assert broken.status_code == 200 and broken.json()["ok"] is False
        assert broken.json()["error"]["kind"] == "syntax"
        # Without code of its own or in the request: nothing to run.
        none = c.post(f"{path}/simulate", json={"eventType": "a.b", "payload": {}})
        assert none.status_code == 422 and none.json()["detail"][0]["loc"] == ["body", "code"]

        big = "function handler(w) { return w }\n" + "//" + "x" * (50 * 1024)
        assert c.patch(path, json={"code": big}).status_code == 413
        assert c.post(f"{path}/simulate", json={"code": big, "eventType": "a.b", "payload": {}}).status_code == 413
        enabling = c.patch(path, json={"enabled": True})
        assert enabling.status_code == 422 and enabling.json()["detail"][0]["loc"] == ["body", "enabled"]
        variables = c.patch(path, json={"code": RESHAPE, "variables": {"a": "b"}})
        assert variables.status_code == 422 and variables.json()["detail"][0]["loc"] == ["body", "variables"]
        assert c.get(path).json()["code"] is None

        assert c.patch(path, json={"code": RESHAPE, "enabled": True}).status_code == 204
        own = c.post(f"{path}/simulate", json={"eventType": "a.b", "payload": {}})
        assert own.json()["ok"] is True and own.json()["url"] == "https://example.test/hook/v2"
        # Removing the code switches the transformation off.
        assert c.patch(path, json={"code": None}).status_code == 204
        assert c.get(path).json()["enabled"] is False and c.get(path).json()["code"] is None
