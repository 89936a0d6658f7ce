"""Endpoints that sign with Ed25519: receivers verify with the public key alone."""

import pytest
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver

import hookline

VECTOR_SECRET = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="


def test_generated_ed25519_key_signs_v1a(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(main_secret="at rest") as hl, hl.client() as c:
        _, ep = make_endpoint(c, receiver.url(), keyType="ed25519")
        public = c.get(f"/api/v1/app/acme/endpoint/{ep}/public-key").json()["key"]
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"].startswith("whsk_")
        publish(c, "acme", payload={"n": 1})
        got = receiver.wait_for(1)[0]
    assert public.startswith("whpk_")
    assert got.headers["webhook-signature"].startswith("v1a,")
    assert hookline.Webhook(public).verify(got.body, got.headers) == {"n": 1}
    with pytest.raises(hookline.WebhookVerificationError):
        hookline.Webhook(public).verify(got.body + b" ", got.headers)


def test_given_whsk_key_and_hmac_endpoints_have_no_public_key(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url(), secret=VECTOR_SECRET)
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}/public-key").json()["key"] == (
            "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
        )
        _, hmac_ep = make_endpoint(c, receiver.url("/hmac"))
        resp = c.get(f"/api/v1/app/acme/endpoint/{hmac_ep}/public-key")
        assert resp.status_code == 409 and resp.json()["code"] == "conflict"
        rotated = c.post(f"/api/v1/app/acme/endpoint/{hmac_ep}/secret/rotate", json={"keyType": "ed25519"})
        assert rotated.json()["key"].startswith("whsk_")
        assert c.get(f"/api/v1/app/acme/endpoint/{hmac_ep}/public-key").status_code == 200


def test_a_key_type_beside_a_key_of_the_other_kind_is_refused(hookline, receiver: Receiver) -> None:
    """keyType says which kind to generate: beside a given key of the other kind it was ignored."""
    hmac_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        for body in ({"secret": VECTOR_SECRET, "keyType": "hmac"}, {"secret": hmac_secret, "keyType": "ed25519"}):
            made = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url("/x"), **body})
            assert made.status_code == 422, made.text
            detail = made.json()["detail"][0]
            assert detail["loc"] == ["body", "keyType"] and "give one or the other" in detail["msg"]
        rotate = f"/api/v1/app/acme/endpoint/{ep}/secret/rotate"
        refused = c.post(rotate, json={"key": hmac_secret, "keyType": "ed25519"})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "keyType"]
        # The same kind, or no keyType, is fine.
        both = {"url": receiver.url("/y"), "secret": VECTOR_SECRET, "keyType": "ed25519"}
        assert c.post("/api/v1/app/acme/endpoint", json=both).status_code == 201
        assert c.post(rotate, json={"key": hmac_secret}).status_code == 200
