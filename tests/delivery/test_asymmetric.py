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
