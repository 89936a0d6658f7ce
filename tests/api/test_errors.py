"""Bad input gets a 4xx with a JSON body naming the field and the problem; never a 500.

The cases share one server per database (as named checks): starting a server costs
more than all of them together.
"""

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver

BIG = "x" * (1024 * 1024 + 10)
HUGE = b'{"name": "' + b"x" * (1200 * 1024) + b'"}'
VALID_SECRET = "whsec_" + "A" * 32


class Checks:
    """Named checks that all run, then fail the test once, naming each that failed. pytest's own
    ``subtests`` lose their failures under xdist (pytest 9.2, xdist 3.8): a test whose subtests
    failed was reported passed, so this file checked nothing in a full run."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    @contextmanager
    def test(self, name: str) -> Iterator[None]:
        try:
            yield
        except AssertionError as problem:
            self.failed.append(f"{name}: {problem}")

    def verify(self) -> None:
        assert not self.failed, "\n".join(self.failed)


def _problem(resp: httpx.Response, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "detail"}, body
    text = str(body["detail"]).lower()
    for word in words:
        assert word.lower() in text, (word, body)


CASES: list[tuple[str, str, str, Any, int, list[str]]] = [
    # (description, method, path, json body or raw bytes, status, words the error must name)
    ("invalid JSON", "post", "/api/v1/app", b'{"name": ', 422, ["json"]),
    ("unknown query parameter", "get", "/api/v1/app?evnt_types=a.b", None, 422, ["evnt_types", "unknown query"]),
    (
        "unknown query parameter of a route",
        "get",
        "/api/v1/app/acme/attempt/endpoint/{ep}?stauts=0",
        None,
        422,
        ["stauts"],
    ),
    (
        "unknown query parameter when publishing",
        "post",
        "/api/v1/app/acme/msg?withContent=false",
        {"eventType": "a.b", "payload": {}},
        422,
        ["withcontent", "with_content"],
    ),
    (
        "with_content not a boolean",
        "post",
        "/api/v1/app/acme/msg?with_content=maybe",
        {"eventType": "a.b", "payload": {}},
        422,
        ["with_content", "true or false"],
    ),
    ("invalid JSON when publishing", "post", "/api/v1/app/acme/msg", b'{"eventType": ', 422, ["json"]),
    ("array instead of object", "post", "/api/v1/app", b"[1, 2]", 422, ["object"]),
    ("array instead of a message", "post", "/api/v1/app/acme/msg", b"[1, 2]", 422, ["object"]),
    ("null body", "post", "/api/v1/app/acme/endpoint", b"null", 422, []),
    ("empty body", "post", "/api/v1/app", b"", 422, ["body"]),
    ("missing name", "post", "/api/v1/app", {"uid": "x"}, 422, ["name"]),
    ("wrong type", "post", "/api/v1/app", {"name": 5}, 422, ["name"]),
    ("wrong type in a list", "post", "/api/v1/app", {"name": ["a"]}, 422, ["name"]),
    ("bad uid", "post", "/api/v1/app", {"name": "a", "uid": "has space"}, 422, ["uid"]),
    ("zero throttle", "post", "/api/v1/app", {"name": "a", "throttleRate": 0}, 422, ["throttlerate"]),
    ("metadata not strings", "patch", "/api/v1/app/acme", {"metadata": {"a": 1}}, 422, ["metadata"]),
    ("missing url", "post", "/api/v1/app/acme/endpoint", {"description": "x"}, 422, ["url"]),
    ("url not a string", "post", "/api/v1/app/acme/endpoint", {"url": 5}, 422, ["url"]),
    ("ftp url", "post", "/api/v1/app/acme/endpoint", {"url": "ftp://example.com/x"}, 422, ["url", "http"]),
    ("javascript url", "post", "/api/v1/app/acme/endpoint", {"url": "javascript:alert(1)"}, 422, ["url"]),
    ("relative url", "post", "/api/v1/app/acme/endpoint", {"url": "/hooks"}, 422, ["url"]),
    ("url without host", "post", "/api/v1/app/acme/endpoint", {"url": "http:///hooks"}, 422, ["url"]),
    ("url with a bad port", "post", "/api/v1/app/acme/endpoint", {"url": "http://a.example:99999/"}, 422, ["url"]),
    ("ftp url by PUT", "put", "/api/v1/app/acme/endpoint/{ep}", {"url": "ftp://example.com/x"}, 422, ["url"]),
    ("ftp url by PATCH", "patch", "/api/v1/app/acme/endpoint/{ep}", {"url": "ftp://example.com/x"}, 422, ["url"]),
    (
        "secret not base64",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "secret": "whsec_notbase64!!"},
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
        "rotate to a bad secret",
        "post",
        "/api/v1/app/acme/endpoint/{ep}/secret/rotate",
        {"key": "whsec_!"},
        422,
        ["key"],
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
        "bad event type on an endpoint",
        "post",
        "/api/v1/app/acme/endpoint",
        {"url": "https://a.example/h", "eventTypes": ["a b"]},
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
    ("eventType not a string", "post", "/api/v1/app/acme/msg", {"eventType": 5, "payload": {}}, 422, ["eventtype"]),
    ("missing payload", "post", "/api/v1/app/acme/msg", {"eventType": "a.b"}, 422, ["payload"]),
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
    ("request body over the limit", "post", "/api/v1/app", HUGE, 413, ["bytes"]),
    ("message body over the limit", "post", "/api/v1/app/acme/msg", HUGE, 413, ["bytes"]),
    ("bad event type name", "post", "/api/v1/event-type", {"name": "a b", "description": "x"}, 422, ["name"]),
    ("event type without description", "post", "/api/v1/event-type", {"name": "a.b"}, 422, ["description"]),
    (
        "grace period too long",
        "post",
        "/api/v1/app/acme/endpoint/{ep}/secret/rotate",
        {"gracePeriodSeconds": 10**7},
        422,
        ["graceperiodseconds"],
    ),
    (
        "bad app id in the publish path",
        "post",
        "/api/v1/app/a%20b/msg",
        {"eventType": "a", "payload": {}},
        422,
        ["app_id"],
    ),
    ("unknown app", "post", "/api/v1/app/nope/msg", {"eventType": "a.b", "payload": {}}, 404, ["application"]),
    ("unknown app by PATCH", "patch", "/api/v1/app/nope", {"name": "x"}, 404, ["application"]),
    ("unknown endpoint", "get", "/api/v1/app/acme/endpoint/ep_missing", None, 404, ["endpoint"]),
    ("unknown endpoint secret", "get", "/api/v1/app/acme/endpoint/ep_missing/secret", None, 404, ["endpoint"]),
    ("unknown message", "get", "/api/v1/app/acme/msg/msg_missing", None, 404, ["message"]),
    ("unknown attempt", "get", "/api/v1/app/acme/msg/{msg}/attempt/atmpt_missing", None, 404, ["attempt"]),
    ("unknown event type", "get", "/api/v1/event-type/nope.nope", None, 404, ["event type"]),
    ("unknown route", "get", "/api/v1/nope", None, 404, ["not found"]),
    ("wrong method", "put", "/api/v1/health/ping", None, 405, ["method"]),
    ("limit zero", "get", "/api/v1/app?limit=0", None, 422, ["limit"]),
    ("limit 251", "get", "/api/v1/app?limit=251", None, 422, ["limit"]),
    ("limit not a number", "get", "/api/v1/app/acme/msg?limit=ten", None, 422, ["limit"]),
    ("bad iterator", "get", "/api/v1/app?iterator=a%20b", None, 422, ["iterator"]),
    ("bad before", "get", "/api/v1/app/acme/msg?before=yesterday", None, 422, ["before"]),
    ("bad after", "get", "/api/v1/app/acme/attempt/endpoint/{ep}?after=2024-13-45", None, 422, ["after"]),
    ("bad status", "get", "/api/v1/app/acme/attempt/endpoint/{ep}?status=9", None, 422, ["status"]),
    ("bad status code class", "get", "/api/v1/app/acme/attempt/msg/{msg}?status_code_class=250", None, 422, ["class"]),
    ("wildcard channel", "get", "/api/v1/app/acme/msg?channel=%25", None, 422, ["channel"]),
    ("bad order", "get", "/api/v1/app?order=sideways", None, 422, ["order"]),
]

# Bodies that are not declared JSON: 415, on FastAPI routes and the hand-written publish route alike.
NOT_JSON = [
    ("text/plain", "post", "/api/v1/app", b'{"name": "x"}'),
    ("form", "post", "/api/v1/app/acme/msg", b"eventType=a&payload=x"),
    ("xml", "put", "/api/v1/app/acme/endpoint/{ep}/headers", b"<headers/>"),
    ("multipart", "patch", "/api/v1/app/acme", b"--x--"),
]
CONTENT_TYPES = {
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "multipart": "multipart/form-data; boundary=x",
}


def test_bad_input(hookline, receiver: Receiver) -> None:
    checks = Checks()
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        msg = publish(c, "acme")
        for description, method, path, body, status, words in CASES:
            with checks.test(description):
                url = path.replace("{ep}", ep).replace("{msg}", msg)
                if isinstance(body, bytes):
                    headers = {"content-type": "application/json"}
                    resp = c.request(method.upper(), url, content=body, headers=headers)
                else:
                    resp = c.request(method.upper(), url, json=body)
                _problem(resp, status, *words)
        for kind, method, path, body in NOT_JSON:
            with checks.test(f"{kind} body"):
                headers = {"content-type": CONTENT_TYPES[kind]}
                resp = c.request(method.upper(), path.replace("{ep}", ep), content=body, headers=headers)
                _problem(resp, 415, "content-type", "application/json")
        for path in ("/api/v1/app", "/api/v1/app/acme/msg"):
            with checks.test(f"no content-type on {path}"):
                _problem(c.post(path, content=b'{"name": "x"}'), 415, "content-type")
        compressed = gzip.compress(b'{"eventType": "a.b", "payload": {}}')
        for path in ("/api/v1/app", "/api/v1/app/acme/msg"):
            with checks.test(f"gzipped body on {path}"):
                headers = {"content-type": "application/json", "content-encoding": "gzip"}
                _problem(c.post(path, content=compressed, headers=headers), 415, "content-encoding", "gzip")
        # JSON by another name is JSON; a POST without a body needs no content-type.
        for content_type in ("application/json; charset=utf-8", "application/vnd.acme+json"):
            resp = c.post("/api/v1/app", content=b'{"name": "ok"}', headers={"content-type": content_type})
            assert resp.status_code == 201, (content_type, resp.text)
        assert c.post(f"/api/v1/app/acme/msg/{msg}/endpoint/{ep}/resend").status_code == 202
        # Nothing bad was stored along the way.
        assert [m["id"] for m in c.get("/api/v1/app/acme/msg").json()["data"]] == [msg]
    checks.verify()


def test_duplicate_event_id_is_a_conflict(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        publish(c, "acme", eventId="order-1")
        resp = c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {}, "eventId": "order-1"})
        _problem(resp, 409, "eventid")
        # Per application: another application may use the same eventId.
        make_endpoint(c, receiver.url(), app_uid="other")
        publish(c, "other", eventId="order-1")


def test_ids_of_one_app_are_not_usable_under_another(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _, ep_a = make_endpoint(c, receiver.url(), app_uid="a")
        _, ep_b = make_endpoint(c, receiver.url(), app_uid="b")
        msg_a = publish(c, "a")
        msg_b = publish(c, "b")
        attempt_a = wait_attempts(c, "a", ep_a, 1)[0]["id"]
        for method, path in [
            ("get", f"/api/v1/app/b/endpoint/{ep_a}"),
            ("get", f"/api/v1/app/b/endpoint/{ep_a}/secret"),
            ("post", f"/api/v1/app/b/endpoint/{ep_a}/secret/rotate"),
            ("get", f"/api/v1/app/b/endpoint/{ep_a}/msg"),
            ("get", f"/api/v1/app/b/msg/{msg_a}"),
            ("get", f"/api/v1/app/b/msg/{msg_a}/endpoint"),
            ("delete", f"/api/v1/app/b/msg/{msg_a}/content"),
            ("get", f"/api/v1/app/b/attempt/endpoint/{ep_a}"),
            ("get", f"/api/v1/app/b/attempt/msg/{msg_a}"),
            ("get", f"/api/v1/app/b/attempt/msg/{msg_b}?endpoint_id={ep_a}"),
            ("get", f"/api/v1/app/b/msg/{msg_a}/attempt/{attempt_a}"),
            ("get", f"/api/v1/app/b/msg/{msg_b}/attempt/{attempt_a}"),
            ("post", f"/api/v1/app/b/msg/{msg_a}/endpoint/{ep_a}/resend"),
            ("post", f"/api/v1/app/b/msg/{msg_b}/endpoint/{ep_a}/resend"),
            ("post", f"/api/v1/app/b/msg/{msg_a}/endpoint/{ep_b}/resend"),
            ("delete", f"/api/v1/app/b/endpoint/{ep_a}"),
        ]:
            body = {} if method == "post" else None
            _problem(c.request(method.upper(), path, json=body), 404, "not found")
        assert c.get(f"/api/v1/app/a/endpoint/{ep_a}").status_code == 200
        assert c.get(f"/api/v1/app/a/msg/{msg_a}").json()["payload"] == {"hello": "world"}


def test_unknown_fields_are_refused_not_ignored(hookline) -> None:
    """A field the API does not know would otherwise be dropped silently: it is a 422 naming it."""
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
        cases = [
            ("/api/v1/app", {"name": "x", "colour": "red"}, "colour"),
            (
                "/api/v1/app/acme/msg",
                {"eventType": "a.b", "payload": {}, "transformationsParams": {}},
                "transformationsParams",
            ),
            ("/api/v1/app/acme/endpoint", {"url": "https://example.com/h", "retries": 3}, "retries"),
            ("/api/v1/event-type", {"name": "a.b", "description": "x", "colour": "red"}, "colour"),
        ]
        for path, body, field in cases:
            resp = c.post(path, json=body)
            assert resp.status_code == 422, (path, resp.text)
            [item] = resp.json()["detail"]
            assert item["loc"] == ["body", field] and "unknown field" in item["msg"], item


def test_a_publish_refused_for_its_query_stores_nothing(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        refused = c.post("/api/v1/app/acme/msg?with_content=false&channel=x", json={"eventType": "a.b", "payload": {}})
        _problem(refused, 422, "channel")
        assert c.get("/api/v1/app/acme/msg").json()["data"] == []
        # The SDKs' own parameters still work.
        assert (
            c.post("/api/v1/app/acme/msg?with_content=false", json={"eventType": "a.b", "payload": {}}).status_code
            == 202
        )
        assert len(c.get("/api/v1/app/acme/msg?limit=10&with_content=false").json()["data"]) == 1
