"""A provider source made before its signing secret is known (Stripe shows it only once it has
the ingest URL): it says it waits for it, keeps every request as a failed verification without
forwarding any, and forwards them once the secret is added and they are verified again."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import stripe
from slack_sdk.signature import SignatureVerifier
from tests.support.servers import Hookline, Receiver

ROOT = "/ingest/api/v1/source"
WHSEC = "whsec_" + "dGhlIHJlYWwgb25lIFN0cmlwZSBzaG93cw"
WAITING = "this source has no signing secret yet: add it, then verify again"


def _made(resp: httpx.Response, admin: httpx.Client) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    source = dict(resp.json())
    # The test server listens on a port of its own, not on the public URL's.
    source["ingestUrl"] = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
    return source


def _stripe_event(event_id: str, *, secret: str = WHSEC) -> tuple[bytes, dict[str, str]]:
    """An event as Stripe sends it, signed by the stripe package with the endpoint's secret."""
    payload = json.dumps({"id": event_id, "object": "event", "type": "checkout.session.completed"})
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=int(time.time()))
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def _requests(admin: httpx.Client, source_id: str) -> list[dict[str, Any]]:
    resp = admin.get(f"{ROOT}/{source_id}/request")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def _nothing_forwarded(admin: httpx.Client, receiver: Receiver) -> None:
    """Nothing reached the receiver but a request sent after, through an open source: the engine
    was at work, and what came before it was not forwarded."""
    open_source = _made(admin.post(ROOT, json={"name": "open", "type": "generic-webhook", "config": {}}), admin)
    made = admin.post(f"{ROOT}/{open_source['id']}/endpoint", json={"url": receiver.url("/sentinel")})
    assert made.status_code == 201, made.text
    assert httpx.post(open_source["ingestUrl"], content=b"{}", timeout=30).status_code == 200
    receiver.wait_for(1)
    time.sleep(0.5)
    assert [r.path for r in receiver.requests] == ["/sentinel"]
    receiver.requests.clear()


def test_a_stripe_source_without_its_secret_waits_and_forwards_once_it_is_added(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as admin:
        body = {"name": "Donations", "type": "stripe", "config": {}, "destinations": [{"url": receiver.url("/crm")}]}
        source = _made(admin.post(ROOT, json=body), admin)
        assert source["awaitingSecret"] is True and source["config"] == {}
        assert admin.get(f"{ROOT}/{source['id']}").json()["awaitingSecret"] is True
        assert [s["awaitingSecret"] for s in admin.get(ROOT).json()["data"]] == [True]

        # Stripe, given the URL, sends its events: each is kept and answered as a failed
        # verification (401, so Stripe retries), and none is forwarded. Sent together, they also
        # go through the batched path.
        payload, headers = _stripe_event("evt_donation_1")
        answer = httpx.post(source["ingestUrl"], content=payload, headers=headers, timeout=30)
        assert answer.status_code == 401, answer.text
        assert answer.json() == {"code": "verification_failed", "detail": WAITING}
        others = [_stripe_event(f"evt_other_{i}") for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            sent = pool.map(lambda e: httpx.post(source["ingestUrl"], content=e[0], headers=e[1], timeout=30), others)
            assert [r.status_code for r in sent] == [401] * 4
        kept = _requests(admin, source["id"])
        assert len(kept) == 5
        assert {(r["status"], r["cause"], r["msgId"]) for r in kept} == {
            ("rejected", f"verification_failed: {WAITING}", None)
        }
        _nothing_forwarded(admin, receiver)
        first = kept[-1]  # newest first: the one sent before the others
        assert admin.get(f"{ROOT}/{source['id']}/request/{first['id']}").json()["body"] == payload.decode()
        replay = f"{ROOT}/{source['id']}/request/{first['id']}/replay"
        refused = admin.post(replay)
        assert refused.status_code == 409 and WAITING in refused.text, refused.text

        # The secret Stripe then shows is added: the source no longer waits, and the request kept
        # is verified again (as of when it came) and forwarded, once.
        added = admin.patch(f"{ROOT}/{source['id']}", json={"config": {"secret": WHSEC}})
        assert added.status_code == 200, added.text
        assert added.json()["awaitingSecret"] is False and added.json()["config"] == {}
        assert admin.post(replay).status_code == 202
        [got] = receiver.wait_for(1)
        assert (got.path, got.body) == ("/crm", payload)
        assert got.headers["stripe-signature"] == headers["Stripe-Signature"]
        assert admin.get(f"{ROOT}/{source['id']}/request/{first['id']}").json()["status"] == "accepted"

        # Stripe's own retry of that event now passes, and is a duplicate of the copy forwarded.
        retried = httpx.post(source["ingestUrl"], content=payload, headers=_stripe_event("evt_donation_1")[1])
        assert retried.status_code == 200 and retried.json()["status"] == "duplicate", retried.text
        # And one that Stripe delivered again before the operator pressed replay is not sent twice.
        other_payload = others[0][0]
        again = httpx.post(source["ingestUrl"], content=other_payload, headers=_stripe_event("evt_other_0")[1])
        assert again.status_code == 200 and again.json()["status"] == "accepted", again.text
        receiver.wait_for(2)
        span = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        out = admin.post(f"{ROOT}/{source['id']}/replay", json=span).json()
        # The first request and evt_other_0's accepted copy are accepted ones, replayed as asked;
        # the three other waiting ones are forwarded now; evt_other_0's refused copy is not.
        assert (out["forwarded"], out["rejected"]) == (5, 1), out
        assert out["causes"][0].startswith("not forwarded: duplicate: the provider sent this event again since")
        [old_copy] = admin.get(f"{ROOT}/{source['id']}/request", params={"status": "rejected"}).json()["data"]
        detail = admin.get(f"{ROOT}/{source['id']}/request/{old_copy['id']}").json()
        assert detail["body"] == other_payload.decode()
        receiver.wait_for(7)
        time.sleep(0.5)
        bodies = [json.loads(r.body)["id"] for r in receiver.requests]
        assert sorted(bodies) == sorted(
            ["evt_donation_1", "evt_other_0"] * 2 + ["evt_other_1", "evt_other_2", "evt_other_3"]
        ), bodies


def test_put_adds_the_secret_and_an_event_signed_with_it_is_forwarded(hookline: Hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        # No config at all is a config without a secret.
        source = _made(admin.post(ROOT, json={"name": "Stripe", "uid": "stripe-live", "type": "stripe"}), admin)
        assert source["awaitingSecret"] is True
        made = admin.post(f"{ROOT}/stripe-live/endpoint", json={"url": receiver.url("/crm")})
        assert made.status_code == 201, made.text
        put = admin.put(f"{ROOT}/stripe-live", json={"name": "Stripe", "type": "stripe", "config": {"secret": WHSEC}})
        assert put.status_code == 200 and put.json()["awaitingSecret"] is False, put.text
        payload, headers = _stripe_event("evt_live")
        assert httpx.post(source["ingestUrl"], content=payload, headers=headers, timeout=30).status_code == 200
        assert receiver.wait_for(1)[0].body == payload
        # Giving it a config without the secret again makes it wait again.
        back = admin.patch(f"{ROOT}/stripe-live", json={"config": {}})
        assert back.status_code == 200 and back.json()["awaitingSecret"] is True, back.text
        payload, headers = _stripe_event("evt_after")
        assert httpx.post(source["ingestUrl"], content=payload, headers=headers, timeout=30).status_code == 401


def test_a_secret_given_must_be_one_and_other_types_keep_their_rules(hookline: Hookline) -> None:
    with hookline.client() as admin:
        for bad in ("", 5, ["whsec_x"], {"value": "x"}):
            refused = admin.post(ROOT, json={"name": "s", "type": "stripe", "config": {"secret": bad}})
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"][0]["loc"] == ["body", "config", "secret"], refused.text
            assert "config.secret must be a non-empty string" in refused.text
        # A generic webhook's HMAC secret is the user's choice: nothing to wait for.
        hmac_config = {"hmac": {"header": "X-Signature"}}
        refused = admin.post(ROOT, json={"name": "g", "type": "generic-webhook", "config": hmac_config})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "config", "hmac", "secret"]
        assert admin.get(ROOT).json()["data"] == []
        # GitHub's secret stays optional, as in Svix: without one it is not verified, not waiting.
        github = _made(admin.post(ROOT, json={"name": "gh", "type": "github", "config": {}}), admin)
        assert github["awaitingSecret"] is False
        assert httpx.post(github["ingestUrl"], content=b"{}", timeout=30).status_code == 200
        hmac_source = admin.post(
            ROOT,
            json={"name": "g", "type": "generic-webhook", "config": {"hmac": {**hmac_config["hmac"], "secret": "s"}}},
        )
        assert hmac_source.status_code == 201 and hmac_source.json()["awaitingSecret"] is False
        # Every provider whose secret is not optional may wait for it.
        for source_type in ("slack", "shopify", "zoom", "twilio", "paddle", "svix", "clerk", "linear"):
            made = admin.post(ROOT, json={"name": source_type, "type": source_type, "config": {}})
            assert made.status_code == 201 and made.json()["awaitingSecret"] is True, (source_type, made.text)


def test_no_handshake_is_answered_or_forwarded_without_the_secret(hookline: Hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        body = {"name": "slack", "type": "slack", "config": {}, "destinations": [{"url": receiver.url("/slack")}]}
        slack = _made(admin.post(ROOT, json=body), admin)
        # Signed with the secret the source does not have yet: answered only once it can be checked.
        challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
        stamp = str(int(time.time()))
        signed = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier("slack-secret").generate_signature(timestamp=stamp, body=challenge),
        }
        answer = httpx.post(slack["ingestUrl"], content=challenge, headers=signed, timeout=30)
        assert answer.status_code == 401 and "c-123" not in answer.text, answer.text
        zoom = _made(admin.post(ROOT, json={"name": "zoom", "type": "zoom", "config": {}}), admin)
        validation = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "p-1"}}).encode()
        answer = httpx.post(zoom["ingestUrl"], content=validation, headers={"Content-Type": "application/json"})
        assert answer.status_code == 401 and "p-1" not in answer.text, answer.text
        # Once the secret is added, the kept challenge passes verification, but a provider's URL
        # check is answered to it, never forwarded: not on a replay either.
        assert admin.patch(f"{ROOT}/{slack['id']}", json={"config": {"secret": "slack-secret"}}).status_code == 200
        [kept] = _requests(admin, slack["id"])
        replayed = admin.post(f"{ROOT}/{slack['id']}/request/{kept['id']}/replay")
        assert replayed.status_code == 409 and "a provider's URL check" in replayed.text, replayed.text
        _nothing_forwarded(admin, receiver)
        assert httpx.post(slack["ingestUrl"], content=challenge, headers=signed).json() == {"challenge": "c-123"}


def test_the_openapi_document_shows_the_waiting_state(hookline: Hookline) -> None:
    with hookline.client() as admin:
        document = admin.get("/api/v1/openapi.json").json()
    out = document["components"]["schemas"]["IngestSourceOut"]
    assert out["properties"]["awaitingSecret"]["type"] == "boolean"
    assert out["properties"]["awaitingSecret"]["readOnly"] is True
    assert "awaitingSecret" in out["required"]
