"""What a destination gets of a received request: the path below the ingest URL and the query
after its own URL (unless it turns that off), the provider's User-Agent and headers, and the
event type it filters on; live and on replay alike."""

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from tests.support.servers import Received, Receiver, wait_until

from hookline.store import tables as t
from hookline.store.database import Database

ROOT = "/ingest/api/v1/source"
DEST_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVERYTHING = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


def _source(admin: httpx.Client, source_type: str, config: dict[str, Any]) -> dict[str, Any]:
    made = admin.post(ROOT, json={"name": source_type, "type": source_type, "config": config})
    assert made.status_code == 201, made.text
    source = dict(made.json())
    source["ingestUrl"] = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
    return source


def _destination(admin: httpx.Client, source_id: str, **body: Any) -> dict[str, Any]:
    made = admin.post(f"{ROOT}/{source_id}/endpoint", json={"secret": DEST_SECRET, **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _paths(receiver: Receiver, expected: Counter[str]) -> Counter[str]:
    """The paths (with queries) the receiver got, once ``expected`` came and a moment passed."""
    wait_until(lambda: Counter(r.path for r in receiver.requests) >= expected, 20, f"{dict(expected)}")
    time.sleep(0.5)
    return Counter(r.path for r in receiver.requests)


def test_the_path_and_query_reach_each_destination_live_and_on_every_replay(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "generic-webhook", {"apiKey": {"key": "k1"}})
        _destination(admin, source["id"], url=receiver.url("/hooks"))
        _destination(admin, source["id"], url=receiver.url("/v2/?token=t1"))
        plain = _destination(admin, source["id"], url=receiver.url("/plain"), pathForwardingDisabled=True)
        assert plain["pathForwardingDisabled"] is True
        listed = admin.get(f"{ROOT}/{source['id']}/endpoint").json()["data"]
        assert [d["pathForwardingDisabled"] for d in listed] == [False, False, True]

        sent = httpx.post(
            source["ingestUrl"] + "/orders/paid?shop=x&note=a%20b", content=b"{}", headers={"X-API-Key": "k1"}
        )
        assert sent.status_code == 200, sent.text
        once = Counter(
            {"/hooks/orders/paid?shop=x&note=a%20b": 1, "/v2/orders/paid?token=t1&shop=x&note=a%20b": 1, "/plain": 1}
        )
        assert _paths(receiver, once) == once

        (accepted,) = admin.get(f"{ROOT}/{source['id']}/request").json()["data"]
        assert (accepted["path"], accepted["query"]) == ("/orders/paid", "shop=x&note=a%20b")
        assert admin.post(f"{ROOT}/{source['id']}/request/{accepted['id']}/replay").status_code == 202
        assert _paths(receiver, once + once) == once + once
        assert admin.post(f"{ROOT}/{source['id']}/replay", json=EVERYTHING).json()["forwarded"] == 1
        thrice = once + once + once
        assert _paths(receiver, thrice) == thrice

        # A rejected request becomes a message only when it is replayed: with its path and query too.
        refused = httpx.post(source["ingestUrl"] + "/refunds/?id=7", content=b"{}", headers={"X-API-Key": "bad"})
        assert refused.status_code == 401
        assert admin.patch(f"{ROOT}/{source['id']}", json={"config": {}}).status_code == 200
        rejected = admin.get(f"{ROOT}/{source['id']}/request", params={"status": "rejected"}).json()["data"][0]
        assert admin.post(f"{ROOT}/{source['id']}/request/{rejected['id']}/replay").status_code == 202
        later = thrice + Counter({"/hooks/refunds/?id=7": 1, "/v2/refunds/?token=t1&id=7": 1, "/plain": 1})
        assert _paths(receiver, later) == later


def test_a_destination_turns_path_forwarding_off_and_on_and_an_upsert_keeps_it(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "generic-webhook", {})
        dest = _destination(admin, source["id"], url=receiver.url("/a"))
        path = f"{ROOT}/{source['id']}/endpoint/{dest['id']}"
        assert admin.put(path, json={"url": receiver.url("/a"), "pathForwardingDisabled": True}).status_code == 200
        # A PUT without the field (the svix SDK's upsert) leaves it as it is.
        kept = admin.put(path, json={"url": receiver.url("/a"), "description": "renamed"})
        assert kept.status_code == 200 and kept.json()["pathForwardingDisabled"] is True
        assert httpx.post(source["ingestUrl"] + "/x?y=1", content=b"one").status_code == 200
        assert _paths(receiver, Counter({"/a": 1})) == Counter({"/a": 1})
        assert admin.put(path, json={"url": receiver.url("/a"), "pathForwardingDisabled": False}).status_code == 200
        assert httpx.post(source["ingestUrl"] + "/x?y=1", content=b"two").status_code == 200
        both = Counter({"/a": 1, "/a/x?y=1": 1})
        assert _paths(receiver, both) == both

        # Refused values name the field; nothing is made or changed.
        for bad in ("maybe", None, 1):
            refused = admin.post(
                f"{ROOT}/{source['id']}/endpoint", json={"url": receiver.url("/b"), "pathForwardingDisabled": bad}
            )
            assert refused.status_code == 422 and "pathForwardingDisabled" in refused.text, refused.text
            refused = admin.put(path, json={"url": receiver.url("/a"), "pathForwardingDisabled": bad})
            assert refused.status_code == 422 and "pathForwardingDisabled" in refused.text, refused.text
        made = admin.post(
            ROOT,
            json={
                "name": "x",
                "type": "generic-webhook",
                "destinations": [{"url": receiver.url("/c"), "pathForwardingDisabled": "no"}],
            },
        )
        assert made.status_code == 422, made.text
        assert made.json()["detail"][0]["loc"] == ["body", "destinations", "0", "pathForwardingDisabled"], made.text
        assert len(admin.get(ROOT).json()["data"]) == 1
        assert admin.get(path).json()["pathForwardingDisabled"] is False
        made = admin.post(
            ROOT,
            json={"name": "y", "type": "generic-webhook", "destinations": [{"url": receiver.url("/c")}]},
        )
        assert made.status_code == 201, made.text
        (created,) = admin.get(f"{ROOT}/{made.json()['id']}/endpoint").json()["data"]
        assert created["pathForwardingDisabled"] is False


async def _attempts(database_url: str, endpoint_id: str) -> list[tuple[str, str | None]]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            query = select(t.attempt.c.url, t.attempt.c.error).where(t.attempt.c.endpoint_id == endpoint_id)
            return [(row[0], row[1]) for row in (await conn.execute(query)).all()]
    finally:
        await db.close()


def _all_attempts(database_url: str, endpoint_id: str, count: int) -> list[tuple[str, str | None]] | None:
    found = asyncio.run(_attempts(database_url, endpoint_id))
    return found if len(found) >= count else None


def test_a_forwarded_path_stays_below_the_destination_and_the_guard_judges_the_final_url(
    hookline_factory, receiver
) -> None:
    only_receiver = (ipaddress.ip_network("127.0.0.1/32"),)
    with hookline_factory(allowed_cidrs=only_receiver, retry_schedule=(60,)) as hl, hl.client() as admin:
        source = _source(admin, "generic-webhook", {})
        _destination(admin, source["id"], url=receiver.url("/base/"))
        blocked = _destination(admin, source["id"], url=f"http://127.0.0.2:{receiver.port}/private")
        tries = [
            "/%2E%2E/%2E%2E/admin",  # dot segments, decoded by the server: they stay below /base
            "/a/%2E/b/%2E%2E/c/",  # the same, resolved within the path below the token
            "/%2F%2F127.0.0.2:1/x",  # a path that looks like an authority stays a path
            "/caf%C3%A9/a%20b/100%25/q%3Fr%23s",  # encoded again; ? and # stay in the path
        ]
        for sub in tries:
            assert httpx.post(source["ingestUrl"] + sub + "?k=%26v", content=sub.encode()).status_code == 200
        expected = {
            "/base/admin?k=%26v",
            "/base/a/c/?k=%26v",
            "/base/127.0.0.2:1/x?k=%26v",
            "/base/caf%C3%A9/a%20b/100%25/q%3Fr%23s?k=%26v",
        }
        wait_until(lambda: {r.path for r in receiver.requests} >= expected, 20, f"{expected}")
        assert {r.path for r in receiver.requests} == expected
        done = wait_until(lambda: _all_attempts(hl.settings.database_url, blocked["id"], 4), 20, "4 blocked attempts")
        assert sorted(url for url, _ in done) == sorted(
            f"http://127.0.0.2:{receiver.port}/private{path.removeprefix('/base')}" for path in expected
        )
        assert all(error and "blocked" in error for _, error in done), done


def _svix_headers(secret: str, msg_id: str, body: bytes) -> dict[str, str]:
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


def test_the_providers_user_agent_and_headers_reach_the_destination(hookline, receiver) -> None:
    provider_secret = "whsec_" + "cHJvdmlkZXItc2VjcmV0LWZvci10ZXN0cw=="
    with hookline.client() as admin:
        source = _source(admin, "clerk", {"secret": provider_secret})
        _destination(admin, source["id"], url=receiver.url("/clerk"))
        body = b'{"type": "user.created", "data": {"id": "user_1"}}'
        headers = {
            **_svix_headers(provider_secret, "msg_provider_1", body),
            "User-Agent": "Svix-Webhooks/1.62.0 (sender-abc; +https://www.svix.com/http-sender/)",
            "Content-Type": "application/json",
            "X-Team": "payments",
            "Connection": "keep-alive, X-Hop-Only",
            "X-Hop-Only": "1",
            "Authorization": "Bearer for-hookline",
            "Cookie": "session=1",
            "Accept-Encoding": "gzip",
        }
        assert httpx.post(source["ingestUrl"], content=body, headers=headers).status_code == 200
        (live,) = receiver.wait_for(1)
        (accepted,) = admin.get(f"{ROOT}/{source['id']}/request").json()["data"]
        assert admin.post(f"{ROOT}/{source['id']}/request/{accepted['id']}/replay").status_code == 202
        replayed = receiver.wait_for(2)[1]

    for got in (live, replayed):
        assert got.headers["user-agent"] == headers["User-Agent"]
        assert got.headers["x-team"] == "payments" and got.headers["content-type"] == "application/json"
        # hookline's signature, made with the destination's secret, under the usual names...
        Webhook(DEST_SECRET).verify(got.body, got.headers)
        assert got.headers["webhook-id"] != "msg_provider_1"
        # ...and the provider's, under X-Original-, still good for its own secret.
        original = {name: got.headers[f"x-original-{name}"] for name in ("webhook-id", "webhook-timestamp")}
        original["webhook-signature"] = got.headers["x-original-webhook-signature"]
        assert original["webhook-id"] == "msg_provider_1"
        Webhook(provider_secret).verify(got.body, original)
        for name in ("x-hop-only", "authorization", "cookie"):
            assert name not in got.headers, name
        assert got.headers["host"] == f"127.0.0.1:{receiver.port}"
        assert got.headers["content-length"] == str(len(body))
        assert got.headers["accept-encoding"] == "identity"


def test_a_github_user_agent_and_signature_reach_the_destination(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "github", {"secret": "gh"})
        _destination(admin, source["id"], url=receiver.url("/gh"))
        body = b'{"zen": "hi"}'
        digest = "sha256=" + hmac.new(b"gh", body, hashlib.sha256).hexdigest()
        headers = {
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "d-ua",
            "X-Hub-Signature-256": digest,
            "Content-Type": "application/json",
        }
        assert httpx.post(source["ingestUrl"], content=body, headers=headers).status_code == 200
        got: Received = receiver.wait_for(1)[0]
    assert got.headers["user-agent"] == "GitHub-Hookshot/044aadd"
    assert got.headers["x-hub-signature-256"] == digest and got.headers["x-github-event"] == "ping"
    assert hmac.compare_digest(digest, "sha256=" + hmac.new(b"gh", got.body, hashlib.sha256).hexdigest())


def _slack_form(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    form = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier("slack-secret").generate_signature(timestamp=ts, body=form)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return form, headers


def test_slack_interactivity_requests_have_their_payloads_type_as_event_type(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "slack", {"secret": "slack-secret"})
        for kind in ("block_actions", "view_submission", "shortcut"):
            _destination(admin, source["id"], url=receiver.url(f"/{kind}"), eventTypes=[kind])
        _destination(admin, source["id"], url=receiver.url("/webhook"), eventTypes=["webhook"])
        for kind in ("block_actions", "view_submission", "shortcut", "view_submission"):
            form, headers = _slack_form({"type": kind, "trigger_id": f"t-{time.monotonic_ns()}"})
            resp = httpx.post(source["ingestUrl"], content=form, headers=headers)
            assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
        expected = Counter({"/block_actions": 1, "/view_submission": 2, "/shortcut": 1})
        assert _paths(receiver, expected) == expected

        # A range replay routes them by the same event types.
        assert admin.post(f"{ROOT}/{source['id']}/replay", json=EVERYTHING).json()["forwarded"] == 4
        assert _paths(receiver, expected + expected) == expected + expected


def test_slack_events_api_requests_have_their_events_type_as_event_type(hookline, receiver) -> None:
    """Every Events API request is an ``event_callback``: only the inner event's type routes them."""
    with hookline.client() as admin:
        source = _source(admin, "slack", {"secret": "slack-secret"})
        for kind in ("app_mention", "team_join"):
            _destination(admin, source["id"], url=receiver.url(f"/{kind}"), eventTypes=[kind])
        for n, kind in enumerate(("app_mention", "team_join", "app_mention")):
            body = json.dumps({"type": "event_callback", "event_id": f"Ev{n}", "event": {"type": kind}}).encode()
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": SignatureVerifier("slack-secret").generate_signature(timestamp=ts, body=body),
            }
            resp = httpx.post(source["ingestUrl"], content=body, headers=headers)
            assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
        expected = Counter({"/app_mention": 2, "/team_join": 1})
        assert _paths(receiver, expected) == expected


def test_shopify_topics_route_to_destinations_by_event_type(hookline, receiver) -> None:
    """A topic such as orders/paid was the event type, which no destination's eventTypes can list."""
    with hookline.client() as admin:
        source = _source(admin, "shopify", {"secret": "shop-secret"})
        _destination(admin, source["id"], url=receiver.url("/paid"), eventTypes=["orders.paid"])
        _destination(admin, source["id"], url=receiver.url("/any"))
        for n, topic in enumerate(("orders/paid", "orders/create")):
            body = json.dumps({"id": n}).encode()
            digest = base64.b64encode(hmac.new(b"shop-secret", body, hashlib.sha256).digest()).decode()
            headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": digest, "X-Shopify-Webhook-Id": f"w{n}"}
            resp = httpx.post(source["ingestUrl"], content=body, headers=headers)
            assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
    assert _paths(receiver, Counter({"/paid": 1, "/any": 2})) == Counter({"/paid": 1, "/any": 2})
