"""hookline.verify itself: dispatch, inputs, and that hostile input only ever raises
WebhookVerificationError, for every provider."""

import base64
import itertools
import math

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hookline
from hookline.receiver import PROVIDERS, HmacScheme, SignedRequest, WebhookVerificationError

from .helpers import NOW, hmac_hex, rejects

GOOD_SECRETS = {
    "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "svix": "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
    "discord": Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex(),
    "sendgrid": base64.b64encode(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode(),
}
HEADER_NAMES = [
    "webhook-id", "webhook-timestamp", "webhook-signature", "svix-signature", "stripe-signature",
    "x-hub-signature-256", "x-hub-signature", "x-shopify-hmac-sha256", "x-slack-signature",
    "x-slack-request-timestamp", "x-twilio-signature", "x-twilio-webhooks-signature-settings",
    "paddle-signature", "x-square-hmacsha256-signature", "x-hubspot-signature-v3",
    "x-hubspot-request-timestamp", "x-hubspot-signature", "x-hubspot-signature-version",
    "x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp",
    "x-signature-ed25519", "x-signature-timestamp", "linear-signature", "x-zm-signature",
    "x-zm-request-timestamp", "typeform-signature", "authorization", "x-api-key", "content-type",
]  # fmt: skip
HOSTILE_VALUES = [
    "", " ", "=", ",", ";", "v1,", "t=,v1=", "ts=;h1=", "sha256=", "v0=", "Basic", "Basic ====",
    "ünïcödé", "\x00", "9" * 400, "-1", "v1,!!!! v1a,@@@", "algorithm=", "multipart/form-data",
    "multipart/form-data; boundary=", "application/x-www-form-urlencoded", "0x10",
]  # fmt: skip
HOSTILE_BODIES = [b"", b"\xff\xfe\x00", b"{", b"[]", b'{"signature": 5}', b"a=%ZZ&b", b"--x--"]
HOSTILE_URLS = [None, "", "https://h:99999/", "http://[::1", "ftp://x", "https://ü.example/p?q=%"]


def hostile_requests() -> list[tuple[dict[str, str], bytes, str | None]]:
    cases = []
    for value, body, url in itertools.product(HOSTILE_VALUES, HOSTILE_BODIES, HOSTILE_URLS[:3]):
        cases.append(({name: value for name in HEADER_NAMES}, body, url))
    for url in HOSTILE_URLS:
        cases.append(({name: "x" for name in HEADER_NAMES}, b"a=1", url))
    return cases


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_hostile_input_only_raises_verification_error(provider: str) -> None:
    secret = GOOD_SECRETS.get(provider, "s3cret")
    for headers, body, url in hostile_requests():
        with pytest.raises(WebhookVerificationError):
            hookline.verify(provider, secret=secret, headers=headers, body=body, url=url, now=NOW)


BAD_SECRETS = ["ü", "whsec_", "whpk_!!", "whsk_", "zz", "-----BEGIN KEY-----", "\x00"]


@pytest.mark.parametrize("provider", ["standard-webhooks", "svix", "discord", "sendgrid"])
def test_unusable_keys_raise_verification_error(provider: str) -> None:
    for secret in BAD_SECRETS:
        with pytest.raises(WebhookVerificationError):
            hookline.verify(provider, secret=secret, headers={}, body=b"{}", now=NOW)


def test_empty_secret_is_refused_before_anything_else() -> None:
    with pytest.raises(WebhookVerificationError, match="no secret configured"):
        hookline.verify("github", secret="", headers={"x-hub-signature-256": "sha256=" + hmac_hex("", b"")}, body=b"")


def test_unknown_provider() -> None:
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        hookline.verify("nope", secret="x", headers={}, body=b"")


def test_provider_names_are_case_insensitive_and_body_may_be_text() -> None:
    body = "Grüße"
    headers = [("X-Hub-Signature-256", "sha256=" + hmac_hex("s", body.encode()))]
    assert hookline.verify("GitHub", secret="s", headers=headers, body=body) is None


def test_a_custom_verifier_gets_the_whole_request() -> None:
    seen: list[SignedRequest] = []
    hookline.verify(
        seen.append,
        secret="s",
        headers=[(b"X-A", b"1")],
        body="b",
        url="https://x/",
        method="PUT",
        now=5,
        tolerance=7,
    )
    [request] = seen
    assert (request.headers["x-a"], request.body, request.url, request.method, request.now, request.tolerance) == (
        "1", b"b", "https://x/", "PUT", 5, 7,
    )  # fmt: skip


def test_now_defaults_to_the_real_clock() -> None:
    import time

    seen: list[SignedRequest] = []
    hookline.verify(seen.append, secret="s", headers={}, body=b"")
    assert abs(seen[0].now - time.time()) < 5


def _signed_an_hour_ago() -> tuple[str, dict[str, str], bytes]:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    body = b'{"a": 1}'
    sent = NOW - 3600
    sig = hookline.Webhook(secret).sign("msg_1", sent, body)
    return secret, {"webhook-id": "msg_1", "webhook-timestamp": str(sent), "webhook-signature": sig}, body


@pytest.mark.parametrize("tolerance", [math.nan, -1.0])
def test_a_tolerance_that_is_no_window_is_a_configuration_error(tolerance: float) -> None:
    """NaN fails every comparison: as a tolerance it accepted an hour-old (or any) timestamp."""
    secret, headers, body = _signed_an_hour_ago()
    with pytest.raises(ValueError, match="tolerance must be"):
        hookline.verify("standard-webhooks", secret=secret, headers=headers, body=body, now=NOW, tolerance=tolerance)
    with pytest.raises(ValueError, match="tolerance must be"):
        hookline.Webhook(secret, tolerance=tolerance)
    with pytest.raises(ValueError, match="tolerance must be"):
        HmacScheme(header="x-sig", tolerance=tolerance)


def test_a_clock_that_is_not_a_time_is_a_configuration_error() -> None:
    secret, headers, body = _signed_an_hour_ago()
    with pytest.raises(ValueError, match="now must be"):
        hookline.verify("standard-webhooks", secret=secret, headers=headers, body=body, now=math.nan)


def test_an_infinite_tolerance_is_no_limit_and_the_default_still_holds() -> None:
    secret, headers, body = _signed_an_hour_ago()
    hookline.verify("standard-webhooks", secret=secret, headers=headers, body=body, now=NOW, tolerance=math.inf)
    with rejects("too old"):
        hookline.verify("standard-webhooks", secret=secret, headers=headers, body=body, now=NOW)
