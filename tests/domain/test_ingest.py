"""The inbound gateway's pure rules: event ids for dedup, event types, forwarded headers, handshakes."""

import hashlib
import json
from urllib.parse import quote_plus

from hookline.domain import ingest
from hookline.domain.captured import CapturedRequest


def _request(body: bytes = b"{}", **headers: str) -> CapturedRequest:
    pairs = tuple((name.replace("_", "-"), value) for name, value in headers.items())
    return CapturedRequest("POST", "", "", pairs, body, "127.0.0.1", 0)


def test_dedup_key_uses_the_providers_event_id_else_the_body_hash() -> None:
    assert ingest.dedup_key("github", _request(X_GitHub_Delivery="d1")) == "id:d1"
    assert ingest.dedup_key("shopify", _request(X_Shopify_Webhook_Id="s1")) == "id:s1"
    assert ingest.dedup_key("stripe", _request(json.dumps({"id": "evt_1"}).encode())) == "id:evt_1"
    assert ingest.dedup_key("slack", _request(json.dumps({"event_id": "Ev1"}).encode())) == "id:Ev1"
    assert ingest.dedup_key("svix", _request(svix_id="msg_1")) == "id:msg_1"
    assert ingest.dedup_key("clerk", _request(webhook_id="msg_2")) == "id:msg_2"
    body = b"not json"
    assert ingest.dedup_key("generic-webhook", _request(body)) == "sha256:" + hashlib.sha256(body).hexdigest()


def test_event_type() -> None:
    assert ingest.event_type("github", _request(X_GitHub_Event="push")) == "push"
    # A Shopify topic as an event type a destination's eventTypes can list ("/" cannot be in one).
    assert ingest.event_type("shopify", _request(X_Shopify_Topic="orders/create")) == "orders.create"
    assert ingest.event_type("generic-webhook", _request(b'{"type": "Order Created!"}')) == "Order_Created_"
    assert ingest.event_type("generic-webhook", _request(b'{"type": "-x"}')) == "webhook"
    assert ingest.event_type("generic-webhook", _request(b'{"type": "' + b"a" * 300 + b'"}')) == "a" * 256
    assert ingest.event_type("stripe", _request(b'{"type": "charge.succeeded"}')) == "charge.succeeded"
    assert ingest.event_type("zoom", _request(b'{"event": "meeting.started"}')) == "meeting.started"
    assert ingest.event_type("generic-webhook", _request(b"\xff")) == "webhook"


def test_a_slack_interactivity_request_has_its_payloads_type() -> None:
    for kind in ("block_actions", "view_submission", "shortcut"):
        body = b"payload=" + quote_plus(json.dumps({"type": kind, "user": {"id": "U1"}})).encode()
        form = _request(body, Content_Type="application/x-www-form-urlencoded")
        assert ingest.event_type("slack", form) == kind
    command = _request(b"command=%2Fdeploy&text=prod", Content_Type="application/x-www-form-urlencoded")
    # The Events API: every event comes as an event_callback; its own type tells them apart.
    mention = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention", "text": "hi"}}
    assert ingest.event_type("slack", _request(json.dumps(mention).encode())) == "app_mention"
    assert ingest.event_type("slack", _request(b'{"type": "event_callback", "event": {}}')) == "event_callback"
    assert ingest.event_type("slack", _request(b'{"type": "app_rate_limited"}')) == "app_rate_limited"
    assert ingest.event_type("slack", command) == "slash_command"
    other = _request(b"token=x&text=prod", Content_Type="application/x-www-form-urlencoded")
    assert ingest.event_type("slack", other) == "webhook"
    assert ingest.event_type("twilio", command) == "webhook"  # Slack's form field, not Twilio's


def test_forwarded_headers_keep_order_and_drop_transport_and_credentials() -> None:
    request = _request(
        b"",
        Host="h",
        X_B="2",
        Authorization="Basic x",
        Content_Length="0",
        User_Agent="Stripe/1.0",
        X_A="1",
        webhook_id="w",
        Proxy_Foo="p",
        Connection="keep-alive, X-Hop",
        X_Hop="gone",
        Accept_Encoding="gzip",
    )
    # The provider's own Standard Webhooks headers travel renamed: hookline signs under those names.
    kept = [("X-B", "2"), ("User-Agent", "Stripe/1.0"), ("X-A", "1"), ("X-Original-webhook-id", "w")]
    assert ingest.forwarded_headers(request) == kept
    assert ingest.forwarded_headers(request, drop=frozenset({"x-a"})) == [p for p in kept if p[0] != "X-A"]


def _at(path: str, query: str = "") -> CapturedRequest:
    return CapturedRequest("POST", path, query, (), b"", "127.0.0.1", 0)


def test_the_forwarded_path_is_encoded_again_and_never_climbs_out() -> None:
    assert ingest.forward_path(_at("")) is None
    assert ingest.forward_path(_at("/")) is None
    assert ingest.forward_path(_at("/orders/paid", "shop=x")) == "/orders/paid?shop=x"
    assert ingest.forward_path(_at("", "a=1&b=%20")) == "?a=1&b=%20"
    assert ingest.forward_path(_at("/orders/")) == "/orders/"
    assert ingest.forward_path(_at("/../../etc/passwd")) == "/etc/passwd"
    assert ingest.forward_path(_at("/a/./b/../c/..")) == "/a/"
    assert ingest.forward_path(_at("//evil.example/x")) == "/evil.example/x"
    assert ingest.forward_path(_at("/caf\u00e9/a b/100%/q?r#s\\t")) == "/caf%C3%A9/a%20b/100%25/q%3Fr%23s%5Ct"
    assert ingest.forward_path(_at("/%2E%2E")) == "/%252E%252E"  # was %252E: stays text, not a dot segment
    assert ingest.forward_path(_at("", "x=\u00e9 #")) == "?x=%E9%20%23"  # raw bytes, as sent


def test_the_forwarded_path_goes_after_the_destinations_path_and_query() -> None:
    assert ingest.forward_url("https://app.example/hooks", "/orders?x=1") == "https://app.example/hooks/orders?x=1"
    assert ingest.forward_url("https://app.example/hooks/", "/orders") == "https://app.example/hooks/orders"
    assert ingest.forward_url("https://app.example", "/orders") == "https://app.example/orders"
    assert ingest.forward_url("https://app.example/h?k=1", "?x=1") == "https://app.example/h?k=1&x=1"
    assert (
        ingest.forward_url("https://u:p@app.example:8443/h/?k=1#f", "/o/?x")
        == "https://u:p@app.example:8443/h/o/?k=1&x#f"
    )
    assert ingest.forward_url("https://app.example", "/evil.example/x") == "https://app.example/evil.example/x"


def test_handshakes() -> None:
    slack = _request(b'{"type": "url_verification", "challenge": "c"}')
    assert ingest.handshake("slack", slack, "s") == ingest.Handshake("application/json", b'{"challenge":"c"}')
    assert ingest.handshake("github", slack, "s") is None
    zoom = _request(b'{"event": "endpoint.url_validation", "payload": {"plainToken": "p"}}')
    shake = ingest.handshake("zoom", zoom, "secret")
    assert shake is not None and json.loads(shake.body)["plainToken"] == "p"
    assert ingest.handshake("zoom", _request(b'{"event": "meeting.started"}'), "secret") is None


def test_what_a_destination_filter_sees_of_a_request() -> None:
    as_json = _request(b'{"type": "charge.succeeded", "data": {"amount": 5}}', Content_Type="application/json")
    assert ingest.filter_payload("stripe", as_json) == {"type": "charge.succeeded", "data": {"amount": 5}}
    form = _request(b"From=%2B1555&Body=hi&Body=again", Content_Type="application/x-www-form-urlencoded")
    assert ingest.filter_payload("twilio", form) == {"From": "+1555", "Body": "again"}
    assert ingest.filter_payload("generic-webhook", _request(b"<xml/>", Content_Type="application/xml")) == {}
    assert ingest.filter_payload("generic-webhook", _request(b"[1, 2]", Content_Type="application/json")) == {}


def test_a_form_encoded_github_webhook_is_filtered_as_its_json() -> None:
    """GitHub's content type "form" sends ``payload=<the JSON>``: filters see that JSON."""
    body = b"payload=" + quote_plus('{"ref": "refs/heads/main"}').encode()
    form = _request(body, Content_Type="application/x-www-form-urlencoded")
    assert ingest.filter_payload("github", form) == {"ref": "refs/heads/main"}
    # Other providers' forms are their fields; a payload that is not a JSON object stays a field.
    assert ingest.filter_payload("generic-webhook", form) == {"payload": '{"ref": "refs/heads/main"}'}
    odd = _request(b"payload=not-json", Content_Type="application/x-www-form-urlencoded")
    assert ingest.filter_payload("github", odd) == {"payload": "not-json"}


def test_a_slack_interactivity_request_is_filtered_as_its_json() -> None:
    """Slack's buttons, modals and shortcuts post ``payload=<the JSON>``; slash commands are plain fields."""
    body = b"payload=" + quote_plus('{"type": "block_actions", "user": {"id": "U1"}}').encode()
    form = _request(body, Content_Type="application/x-www-form-urlencoded")
    assert ingest.filter_payload("slack", form) == {"type": "block_actions", "user": {"id": "U1"}}
    command = _request(b"command=%2Fdeploy&text=prod", Content_Type="application/x-www-form-urlencoded")
    # The Events API: every event comes as an event_callback; its own type tells them apart.
    mention = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention", "text": "hi"}}
    assert ingest.event_type("slack", _request(json.dumps(mention).encode())) == "app_mention"
    assert ingest.event_type("slack", _request(b'{"type": "event_callback", "event": {}}')) == "event_callback"
    assert ingest.event_type("slack", _request(b'{"type": "app_rate_limited"}')) == "app_rate_limited"
    assert ingest.filter_payload("slack", command) == {"command": "/deploy", "text": "prod"}
    odd = _request(b"payload=not-json", Content_Type="application/x-www-form-urlencoded")
    assert ingest.filter_payload("slack", odd) == {"payload": "not-json"}
