"""Bad input gets a 4xx with a JSON body naming the field and the problem; never a 500."""

from typing import Any

import pytest
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver

BIG = "x" * (1024 * 1024 + 10)


def _problem(resp: Any, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "detail"}, body
    text = str(body["detail"]).lower()
    for word in words:
        assert word.lower() in text, (word, body)


CASES = [
    # (description, method, path, json body or raw bytes, status, words the error must name)
    ("invalid JSON", "post", "/api/v1/app", b'{"name": ', 422, ["json"]),
    ("array instead of object", "post", "/api/v1/app", b"[1, 2]", 422, []),
    ("missing name", "post", "/api/v1/app", {"uid": "x"}, 422, ["name"]),
    ("wrong type", "post", "/api/v1/app", {"name": 5}, 422, ["name"]),
    ("bad uid", "post", "/api/v1/app", {"name": "a", "uid": "has space"}, 422, ["uid"]),
    ("zero throttle", "post", "/api/v1/app", {"name": "a", "throttleRate": 0}, 422, ["throttlerate"]),
    ("ftp url", "post", "/api/v1/app/acme/endpoint", {"url": "ftp://example.com/x"}, 422, ["url", "http"]),
    ("javascript url", "post", "/api/v1/app/acme/endpoint", {"url": "javascript:alert(1)"}, 422, ["url"]),
    ("relative url", "post", "/api/v1/app/acme/endpoint", {"url": "/hooks"}, 422, ["url"]),
    (
        "secret not base64",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "secret": "whsec_!!notbase64!!"},
        422,
        ["secret"],
    ),
    (
        "secret too short",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "secret": "whsec_c2hvcnQ="},
        422,
        ["secret"],
    ),
    (
        "too many endpoint channels",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "channels": [f"c{i}" for i in range(11)]},
        422,
        ["channels"],
    ),
    (
        "empty event types",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "eventTypes": []},
        422,
        ["eventtypes"],
    ),
    (
        "bad header name",
        "put",
        "/api/v1/app/acme/endpoint/{ep}/headers",
        {"headers": {"Bad Header": "x"}},
        422,
        ["headers"],
    ),
    (
        "header injection",
        "put",
        "/api/v1/app/acme/endpoint/{ep}/headers",
        {"headers": {"X-A": "a\r\nX-B: b"}},
        422,
        ["headers"],
    ),
    ("missing eventType", "post", "/api/v1/app/acme/msg", {"payload": {}}, 422, ["eventtype"]),
    ("payload not an object", "post", "/api/v1/app/acme/msg", {"eventType": "a.b", "payload": [1]}, 422, ["payload"]),
    (
        "bad event type name",
        "post",
        "/api/v1/app/acme/msg",
        {"eventType": "no spaces", "payload": {}},
        422,
        ["eventtype"],
    ),
    (
        "too many channels",
        "post",
        "/api/v1/app/acme/msg",
        {"eventType": "a.b", "payload": {}, "channels": list("abcdef")},
        422,
        ["channels"],
    ),
    (
        "payload over 1 MiB",
        "post",
        "/api/v1/app/acme/msg",
        {"eventType": "a.b", "payload": {"big": BIG}},
        413,
        ["payload"],
    ),
    (
        "grace period too long",
        "post",
        "/api/v1/app/acme/endpoint/{ep}/secret/rotate",
        {"gracePeriodSeconds": 10**7},
        422,
        ["graceperiodseconds"],
    ),
    ("unknown app", "post", "/api/v1/app/nope/msg", {"eventType": "a.b", "payload": {}}, 404, ["application"]),
    ("unknown endpoint", "get", "/api/v1/app/acme/endpoint/ep_missing", None, 404, ["endpoint"]),
    ("unknown message", "get", "/api/v1/app/acme/msg/msg_missing", None, 404, ["message"]),
    ("unknown event type", "get", "/api/v1/event-type/nope.nope", None, 404, ["event type"]),
    ("limit zero", "get", "/api/v1/app?limit=0", None, 422, ["limit"]),
    ("limit 251", "get", "/api/v1/app?limit=251", None, 422, ["limit"]),
    ("bad before", "get", "/api/v1/app/acme/msg?before=yesterday", None, 422, ["before"]),
    ("bad status", "get", "/api/v1/app/acme/attempt/endpoint/{ep}?status=9", None, 422, ["status"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(hookline, receiver: Receiver, case: tuple) -> None:
    _, method, path, body, status, words = case
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        url = path.replace("{ep}", ep)
        if isinstance(body, bytes):
            resp = c.request(method.upper(), url, content=body, headers={"content-type": "application/json"})
        else:
            resp = c.request(method.upper(), url, json=body)
    _problem(resp, status, *words)


def test_duplicate_event_id_is_a_conflict(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        publish(c, "acme", eventId="order-1")
        resp = c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {}, "eventId": "order-1"})
        _problem(resp, 409, "eventid")
        # Per application: another application may use the same eventId.
        make_endpoint(c, receiver.url(), app_uid="other")
        publish(c, "other", eventId="order-1")


def test_missing_or_wrong_token(hookline) -> None:
    import httpx

    with httpx.Client(base_url=hookline.url) as anonymous:
        _problem(anonymous.get("/api/v1/app"), 401, "token")
        _problem(anonymous.get("/api/v1/app", headers={"Authorization": "Bearer wrong"}), 401, "token")
        _problem(anonymous.get("/api/v1/app", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "token")


def test_ids_of_one_app_are_not_usable_under_another(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _, ep_a = make_endpoint(c, receiver.url(), app_uid="a")
        make_endpoint(c, receiver.url(), app_uid="b")
        msg_a = publish(c, "a")
        for method, path in [
            ("get", f"/api/v1/app/b/endpoint/{ep_a}"),
            ("get", f"/api/v1/app/b/msg/{msg_a}"),
            ("get", f"/api/v1/app/b/attempt/endpoint/{ep_a}"),
            ("get", f"/api/v1/app/b/attempt/msg/{msg_a}"),
            ("post", f"/api/v1/app/b/msg/{msg_a}/endpoint/{ep_a}/resend"),
            ("delete", f"/api/v1/app/b/endpoint/{ep_a}"),
        ]:
            _problem(c.request(method.upper(), path), 404, "not found")
        assert c.get(f"/api/v1/app/a/endpoint/{ep_a}").status_code == 200
