"""The inbound gateway: sources by the svix SDK, provider requests verified, stored, deduplicated
and forwarded as sent (signed for each destination), rejected ones replayed once fixed."""

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import stripe
from slack_sdk.signature import SignatureVerifier
from standardwebhooks.webhooks import Webhook
from svix.api import Svix, SvixOptions
from svix.models import GithubConfig, IngestEndpointIn, IngestEndpointSecretIn, IngestSourceIn
from svix.models.ingest_endpoint_headers_in import IngestEndpointHeadersIn
from svix.models.ingest_endpoint_upsert_in import IngestEndpointUpsertIn
from tests.support.api import github_headers
from tests.support.servers import ADMIN_TOKEN, Reply, wait_until
from twilio.request_validator import RequestValidator

DEST_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _source(admin: httpx.Client, source_type: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = admin.post(
        "/ingest/api/v1/source", json={"name": source_type, "type": source_type, "config": config, **extra}
    )
    assert resp.status_code == 201, resp.text
    source = dict(resp.json())
    # The test server listens on a port of its own, not on the public URL's.
    assert source["ingestUrl"].startswith(f"{admin.base_url.scheme}://")
    source["ingestUrl"] = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
    return source


def _destination(admin: httpx.Client, source_id: str, url: str) -> str:
    body = {"url": url, "secret": DEST_SECRET}
    resp = admin.post(f"/ingest/api/v1/source/{source_id}/endpoint", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _requests(admin: httpx.Client, source_id: str, **params: str) -> list[dict[str, Any]]:
    resp = admin.get(f"/ingest/api/v1/source/{source_id}/request", params=params)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def test_svix_sdk_manages_sources_and_destinations(hookline, receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    source = svix.ingest.source.create(
        IngestSourceIn(name="gh", uid="gh-main", type="github", config=GithubConfig(secret="s3cret"))
    )
    assert source.ingest_url and source.ingest_url.startswith("http") and "/in/" in source.ingest_url
    assert svix.ingest.source.get("gh-main").id == source.id
    assert [s.id for s in svix.ingest.source.list().data] == [source.id]
    renamed = svix.ingest.source.upsert(
        source.id, IngestSourceIn(name="renamed", type="github", config={"secret": "x"})
    )
    assert renamed.name == "renamed" and renamed.uid == "gh-main"
    rotated = svix.ingest.source.rotate_token(source.id)
    assert rotated.ingest_url != source.ingest_url

    ep = svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url(), uid="dest"))
    assert svix.ingest.endpoint.get(source.id, "dest").id == ep.id
    assert [e.id for e in svix.ingest.endpoint.list(source.id).data] == [ep.id]
    assert svix.ingest.endpoint.upsert(source.id, ep.id, IngestEndpointUpsertIn(url=receiver.url("/x"))).url.endswith(
        "/x"
    )
    before = svix.ingest.endpoint.get_secret(source.id, ep.id).key
    svix.ingest.endpoint.rotate_secret(source.id, ep.id, IngestEndpointSecretIn())
    assert svix.ingest.endpoint.get_secret(source.id, ep.id).key != before
    svix.ingest.endpoint.set_headers(source.id, ep.id, IngestEndpointHeadersIn(headers={"X-Team": "a"}))
    assert svix.ingest.endpoint.get_headers(source.id, ep.id).headers == {"X-Team": "a"}
    svix.ingest.endpoint.delete(source.id, ep.id)
    svix.ingest.source.delete(source.id)
    with hookline.client() as admin:
        assert admin.get(f"/ingest/api/v1/source/{source.id}").status_code == 404
        # Sources' applications are internal: never listed to anyone.
        assert admin.get("/api/v1/app").json()["data"] == []
        refused = admin.post("/ingest/api/v1/source", json={"name": "x", "type": "adobe-sign", "config": {}})
        assert refused.status_code == 422 and "type" in refused.text
        refused = admin.post("/ingest/api/v1/source", json={"name": "x", "type": "stripe", "config": {"secrt": "x"}})
        assert refused.status_code == 422 and "secrt" in refused.text


def test_github_request_is_forwarded_byte_identical_and_signed_then_deduplicated(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "github", {"secret": "gh-secret"})
        _destination(admin, source["id"], receiver.url())
        body = b'{"ref": "refs/heads/main",  "zen":"\xc3\xa9"}'
        resp = httpx.post(
            source["ingestUrl"] + "/any/path?x=1", content=body, headers=github_headers("gh-secret", body, "d-1")
        )
        assert resp.status_code == 200, resp.text
        got = receiver.wait_for(1)[0]
        assert got.body == body
        assert got.headers["content-type"] == "application/json"
        assert got.headers["x-github-event"] == "push" and got.headers["x-github-delivery"] == "d-1"
        Webhook(DEST_SECRET).verify(got.body, got.headers)

        again = httpx.post(source["ingestUrl"], content=body, headers=github_headers("gh-secret", body, "d-1"))
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        listed = _requests(admin, source["id"])
        assert [r["status"] for r in listed] == ["duplicate", "accepted"]
        assert listed[0]["msgId"] is None and listed[1]["msgId"]
        assert listed[1]["path"] == "/any/path" and listed[1]["query"] == "x=1"
        assert _requests(admin, source["id"], status="duplicate")[0]["id"] == listed[0]["id"]
        shown = admin.get(f"/ingest/api/v1/source/{source['id']}/request/{listed[1]['id']}").json()
        assert shown["body"] == body.decode() and ["x-github-event", "push"] in [
            [k.lower(), v] for k, v in shown["headers"]
        ]
        metrics = admin.get("/metrics").text
        assert "hookline_ingest_received_total" in metrics and "hookline_ingest_duplicates_total" in metrics


def test_wrong_signature_is_rejected_stored_and_replayed_once_fixed(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _source(admin, "github", {"secret": "wrong"})
        _destination(admin, source["id"], receiver.url())
        body = b'{"action":"opened"}'
        resp = httpx.post(source["ingestUrl"], content=body, headers=github_headers("right", body, "d-2"))
        assert resp.status_code == 401, resp.text
        (rejected,) = _requests(admin, source["id"])
        assert rejected["status"] == "rejected" and rejected["cause"].startswith("verification_failed")
        replay = f"/ingest/api/v1/source/{source['id']}/request/{rejected['id']}/replay"
        assert admin.post(replay).status_code == 409
        fixed = admin.put(
            f"/ingest/api/v1/source/{source['id']}",
            json={"name": "gh", "type": "github", "config": {"secret": "right"}},
        )
        assert fixed.status_code == 200, fixed.text
        assert admin.post(replay).status_code == 202
        assert receiver.wait_for(1)[0].body == body
        assert _requests(admin, source["id"])[0]["status"] == "accepted"
        # A time range replays what is in it again.
        span = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        out = admin.post(f"/ingest/api/v1/source/{source['id']}/replay", json=span)
        assert out.status_code == 200 and out.json()["forwarded"] == 1, out.text
        receiver.wait_for(2)


def test_stripe_slack_and_twilio(hookline, receiver) -> None:
    with hookline.client() as admin:
        stripe_src = _source(admin, "stripe", {"secret": "whsec_stripe"})
        _destination(admin, stripe_src["id"], receiver.url("/stripe"))
        payload = json.dumps({"id": "evt_1", "type": "charge.succeeded"})
        header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_stripe", timestamp=int(time.time()))
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        assert httpx.post(stripe_src["ingestUrl"], content=payload, headers=headers).status_code == 200
        assert httpx.post(stripe_src["ingestUrl"], content=payload, headers=headers).json()["status"] == "duplicate"

        slack_src = _source(admin, "slack", {"secret": "slack-secret"})
        _destination(admin, slack_src["id"], receiver.url("/slack"))
        challenge = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
        ts = str(int(time.time()))
        signature = SignatureVerifier("slack-secret").generate_signature(timestamp=ts, body=challenge)
        slack_headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
        answer = httpx.post(slack_src["ingestUrl"], content=challenge, headers=slack_headers)
        assert answer.status_code == 200 and answer.json() == {"challenge": "abc123"}
        assert _requests(admin, slack_src["id"]) == []

        twilio_src = _source(
            admin, "twilio", {"secret": "twilio-token"}, response={"contentType": "text/xml", "body": "<Response/>"}
        )
        _destination(admin, twilio_src["id"], receiver.url("/twilio"))
        params = {"From": "+15551234567", "Body": "hi there", "MessageSid": "SM1"}
        url = twilio_src["ingestUrl"]
        form = urlencode(params)
        twilio_headers = {
            "X-Twilio-Signature": RequestValidator("twilio-token").compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answer = httpx.post(url, content=form, headers=twilio_headers)
        assert answer.status_code == 200 and answer.text == "<Response/>"
        assert answer.headers["content-type"].startswith("text/xml")

        wait_until(lambda: {r.path for r in receiver.requests} >= {"/stripe", "/twilio"}, 20, "stripe and twilio")
        by_path = {r.path: r for r in receiver.requests}
        assert by_path["/stripe"].body == payload.encode()
        assert by_path["/twilio"].body == form.encode()
        assert by_path["/twilio"].headers["content-type"] == "application/x-www-form-urlencoded"
        assert "/slack" not in by_path


def test_down_destination_is_retried_and_sources_are_isolated(hookline, receiver) -> None:
    calls: list[str] = []

    def respond(item: Any) -> Reply:
        calls.append(item.path)
        return Reply(status=503) if item.path == "/a" and calls.count("/a") == 1 else Reply()

    receiver.respond = respond
    with hookline.client() as admin:
        a = _source(admin, "generic-webhook", {})
        b = _source(admin, "generic-webhook", {"apiKey": {"key": "k-b"}})
        _destination(admin, a["id"], receiver.url("/a"))
        _destination(admin, b["id"], receiver.url("/b"))
        assert httpx.post(a["ingestUrl"], content=b"one").status_code == 200
        assert httpx.post(b["ingestUrl"], content=b"two").status_code == 401
        assert httpx.post(b["ingestUrl"], content=b"two", headers={"X-API-Key": "k-b"}).status_code == 200
        wait_until(lambda: calls.count("/a") >= 2 and calls.count("/b") >= 1, 20, "a retried, b delivered")
        assert {r.body for r in receiver.requests if r.path == "/a"} == {b"one"}
        assert {r.body for r in receiver.requests if r.path == "/b"} == {b"two"}
        # The API key is hookline's, not the destination's.
        assert all("x-api-key" not in r.headers for r in receiver.requests)
        assert httpx.post(hookline.url + "/in/not-a-token", content=b"x").status_code == 404
        # The ingest URL takes any content type; the management API only JSON.
        assert (
            admin.post("/ingest/api/v1/source", content=b"x", headers={"content-type": "text/plain"}).status_code == 415
        )


def test_zoom_handshake_token_rotation_and_generic_schemes(hookline, receiver) -> None:
    with hookline.client() as admin:
        zoom = _source(admin, "zoom", {"secret": "zoom-secret"})
        body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "pt-1"}}).encode()
        ts = str(int(time.time()))
        digest = hmac.new(b"zoom-secret", f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        headers = {"x-zm-request-timestamp": ts, "x-zm-signature": f"v0={digest}", "content-type": "application/json"}
        answer = httpx.post(zoom["ingestUrl"], content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        expected = hmac.new(b"zoom-secret", b"pt-1", hashlib.sha256).hexdigest()
        assert answer.json() == {"plainToken": "pt-1", "encryptedToken": expected}

        signed = _source(
            admin,
            "generic-webhook",
            {"hmac": {"secret": "h", "header": "X-Sig", "prefix": "sha512=", "algorithm": "sha512"}},
        )
        assert "secret" not in json.dumps(signed["config"]) and signed["config"]["hmac"]["header"] == "X-Sig"
        _destination(admin, signed["id"], receiver.url("/hmac"))
        sig = "sha512=" + hmac.new(b"h", b"payload", hashlib.sha512).hexdigest()
        assert httpx.post(signed["ingestUrl"], content=b"payload", headers={"X-Sig": sig}).status_code == 200
        assert httpx.post(signed["ingestUrl"], content=b"payload", headers={"X-Sig": "sha512=00"}).status_code == 401
        assert httpx.get(signed["ingestUrl"]).status_code == 405
        causes = sorted(r["cause"].split(":")[0] for r in _requests(admin, signed["id"], status="rejected"))
        assert causes == ["unsupported_method", "verification_failed"]
        assert 'hookline_ingest_rejected_total{cause="verification_failed"}' in admin.get("/metrics").text

        basic = _source(admin, "generic-webhook", {"basicAuth": {"username": "u", "password": "p"}})
        assert httpx.post(basic["ingestUrl"], content=b"x", auth=("u", "p")).status_code == 200
        assert httpx.post(basic["ingestUrl"], content=b"x", auth=("u", "wrong")).status_code == 401

        # A rotated token keeps working beside the new one (for 24 hours).
        old = signed["ingestUrl"]
        rotated = admin.post(f"/ingest/api/v1/source/{signed['id']}/token/rotate")
        assert rotated.status_code == 200
        new = old.rsplit("/in/", 1)[0] + "/in/" + rotated.json()["ingestUrl"].rsplit("/in/", 1)[1]
        assert new != old
        for url, content in ((old, b"via old"), (new, b"via new")):
            sig = "sha512=" + hmac.new(b"h", content, hashlib.sha512).hexdigest()
            assert httpx.post(url, content=content, headers={"X-Sig": sig}).status_code == 200
        wait_until(lambda: len([r for r in receiver.requests if r.path == "/hmac"]) >= 3, 20, "three forwarded")
        assert sorted(r.body for r in receiver.requests if r.path == "/hmac") == [b"payload", b"via new", b"via old"]
        # Bad configs are refused naming the field.
        bad = admin.post(
            "/ingest/api/v1/source",
            json={
                "name": "x",
                "type": "generic-webhook",
                "config": {"hmac": {"secret": "s", "header": "X", "algorithm": "md5"}},
            },
        )
        assert bad.status_code == 422 and "hmac" in bad.text


def test_sources_applications_are_not_the_operational_one(hookline_factory, receiver) -> None:
    with hookline_factory() as first, first.client() as admin:
        source = _source(admin, "generic-webhook", {})
    with hookline_factory(operational_webhook_url=receiver.url("/ops")) as second, second.client() as admin:
        _destination(admin, source["id"], receiver.url("/dest"))
        listed = admin.get(f"/ingest/api/v1/source/{source['id']}/endpoint").json()["data"]
        assert [e["url"] for e in listed] == [receiver.url("/dest")]
        ops = receiver.wait_for(1)[0]
        assert ops.path == "/ops" and json.loads(ops.body)["type"] == "endpoint.created"


def test_limits_and_who_may_manage_sources(hookline_factory, receiver) -> None:
    with hookline_factory(capture_max_bytes=1000) as hl, hl.client() as admin:
        source = _source(admin, "generic-webhook", {})
        _destination(admin, source["id"], receiver.url())
        assert httpx.post(source["ingestUrl"], content=b"x" * 1001).status_code == 413
        # A sender's Idempotency-Key is passed on, not taken as hookline's.
        for body in (b"first", b"second"):
            resp = httpx.post(source["ingestUrl"], content=body, headers={"Idempotency-Key": "same"})
            assert resp.status_code == 200 and resp.json()["status"] == "accepted"
        assert [r["size"] for r in _requests(admin, source["id"])] == [6, 5]
        # Paginated, newest first.
        first = admin.get(f"/ingest/api/v1/source/{source['id']}/request", params={"limit": 1}).json()
        assert not first["done"] and [r["size"] for r in first["data"]] == [6]
        params = {"limit": 1, "iterator": first["iterator"]}
        rest = admin.get(f"/ingest/api/v1/source/{source['id']}/request", params=params).json()
        assert [r["size"] for r in rest["data"]] == [5]
        future = {"since": "2100-01-01T00:00:00Z"}
        assert _requests(admin, source["id"], **future) == []
        bad = admin.get(f"/ingest/api/v1/source/{source['id']}/request", params={"status": "lost"})
        assert bad.status_code == 422 and "status" in bad.text
        wait_until(lambda: len(receiver.requests) >= 2, 20, "both forwarded")
        assert {r.headers.get("idempotency-key") for r in receiver.requests} == {"same"}

        admin.post("/api/v1/app", json={"name": "tenant", "uid": "tenant"})
        token = admin.post("/api/v1/auth/app-portal-access/tenant", json={}).json()["token"]
        with httpx.Client(base_url=hl.url, headers={"Authorization": f"Bearer {token}"}) as tenant:
            assert tenant.get("/ingest/api/v1/source").status_code == 403
            assert tenant.get(f"/ingest/api/v1/source/{source['id']}/request").status_code == 403


def test_destination_payload_filters_choose_what_each_one_gets(hookline, receiver) -> None:
    """The endpoints' filter object works on destinations too (issue: delivery policies): a
    request a destination's filter does not match creates no delivery for it."""
    with hookline.client() as admin:
        source = _source(admin, "github", {"secret": "gh"})
        everything = _destination(admin, source["id"], receiver.url("/all"))
        only_main = {"url": receiver.url("/main"), "filter": {"payload": {"ref": "refs/heads/main"}}}
        made = admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json=only_main)
        assert made.status_code == 201, made.text
        assert made.json()["filter"] == only_main["filter"]
        for n, ref in enumerate(["refs/heads/main", "refs/heads/dev"]):
            body = json.dumps({"ref": ref}).encode()
            assert httpx.post(
                source["ingestUrl"], content=body, headers=github_headers("gh", body, f"f-{n}")
            ).is_success
        got = receiver.wait_for(3, timeout=30)
        assert sorted(r.path for r in got) == ["/all", "/all", "/main"]
        assert [json.loads(r.body)["ref"] for r in got if r.path == "/main"] == ["refs/heads/main"]
        assert everything
