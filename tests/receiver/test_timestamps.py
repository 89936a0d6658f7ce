"""Timestamps far in the future, and stale ones, for every provider that signs a timestamp.

Each provider does what its official library does, checked against that library's source:

| provider | future | stale | source |
|---|---|---|---|
| standard-webhooks, svix | rejected | rejected | standardwebhooks and svix ``verify``: "Message timestamp
  too new" / "too old" |
| stripe | accepted | rejected | stripe-python ``WebhookSignature.verify_header``: ``timestamp < time() - tolerance`` |
| slack | rejected | rejected | slack_sdk ``SignatureVerifier.is_valid``: ``abs(now - timestamp) > 60 * 5`` |
| paddle | accepted | rejected | paddle-python-sdk ``Verifier.verify``: ``time() > ts + maximum_variance``; the Node
  (``WebhooksValidator``) and PHP (``Verifier``) SDKs compare the same way; the Go SDK checks no time |
| hubspot (v3) | accepted | rejected | hubspot-api-python ``Signature._is_timestamp_valid``: ``now - ts < 300`` |
| linear | rejected | rejected | @linear/sdk ``LinearWebhooks.verify``: ``Math.abs(now - ts) > 60 * 1000`` |
| mailgun, sendgrid, discord, zoom | accepted | accepted | no window: sendgrid-python ``EventWebhook``,
  discord-interactions ``verify_key``, Mailgun's and Zoom's documented samples check none |

Providers whose libraries accept a future timestamp do so on purpose: only the sender can sign
one, and a receiver whose clock runs slow must not reject every webhook. The others sign no
timestamp at all (github, shopify, twilio, square, typeform, basic-auth, api-key).
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hookline
from hookline.receiver.providers import PROVIDERS

from .helpers import NOW, hmac_b64, hmac_hex, rejects

HOUR = 3600
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"event": "invoice.paid", "amount": 4200}'
URL = "https://example.com/hooks"
UNSIGNED_TIME = {"github", "shopify", "twilio", "square", "typeform", "basic-auth", "api-key"}


@dataclass
class Signed:
    secret: str
    headers: dict[str, str]
    body: bytes = BODY
    url: str | None = None


def standard(prefix: str) -> Callable[[int], Signed]:
    def sign(ts: int) -> Signed:
        signature = hookline.Webhook(SECRET).sign("msg_1", ts, BODY)
        headers = {f"{prefix}-id": "msg_1", f"{prefix}-timestamp": str(ts), f"{prefix}-signature": signature}
        return Signed(SECRET, headers)

    return sign


def stripe(ts: int) -> Signed:
    return Signed(SECRET, {"Stripe-Signature": f"t={ts},v1={hmac_hex(SECRET, f'{ts}.'.encode() + BODY)}"})


def slack(ts: int) -> Signed:
    signature = "v0=" + hmac_hex(SECRET, f"v0:{ts}:".encode() + BODY)
    return Signed(SECRET, {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": str(ts)})


def paddle(ts: int) -> Signed:
    return Signed(SECRET, {"Paddle-Signature": f"ts={ts};h1={hmac_hex(SECRET, f'{ts}:'.encode() + BODY)}"})


def hubspot(ts: int) -> Signed:
    millis = str(ts * 1000)
    signature = hmac_b64(SECRET, f"POST{URL}".encode() + BODY + millis.encode())
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": millis}
    return Signed(SECRET, headers, url=URL)


def linear(ts: int) -> Signed:
    body = json.dumps({"action": "create", "webhookTimestamp": ts * 1000}).encode()
    return Signed(SECRET, {"Linear-Signature": hmac_hex(SECRET, body)}, body)


def mailgun(ts: int) -> Signed:
    token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"
    block = {"timestamp": str(ts), "token": token, "signature": hmac_hex(SECRET, f"{ts}{token}".encode())}
    body = json.dumps({"signature": block, "event-data": {"event": "delivered"}}).encode()
    return Signed(SECRET, {"Content-Type": "application/json"}, body)


def sendgrid(ts: int) -> Signed:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    signature = key.sign(str(ts).encode() + BODY, ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(ts),
    }
    return Signed(base64.b64encode(der).decode(), headers)


def discord(ts: int) -> Signed:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = key.sign(str(ts).encode() + BODY).hex()
    return Signed(public.hex(), {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": str(ts)})


def zoom(ts: int) -> Signed:
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + BODY, hashlib.sha256).hexdigest()
    return Signed(SECRET, {"x-zm-signature": signature, "x-zm-request-timestamp": str(ts)})


# provider: (signer, future accepted by default, stale accepted by default)
CASES: dict[str, tuple[Callable[[int], Signed], bool, bool]] = {
    "standard-webhooks": (standard("webhook"), False, False),
    "svix": (standard("svix"), False, False),
    "stripe": (stripe, True, False),
    "slack": (slack, False, False),
    "paddle": (paddle, True, False),
    "hubspot": (hubspot, True, False),
    "linear": (linear, False, False),
    "mailgun": (mailgun, True, True),
    "sendgrid": (sendgrid, True, True),
    "discord": (discord, True, True),
    "zoom": (zoom, True, True),
}


def verify(provider: str, signed: Signed, tolerance: float | None = None) -> None:
    hookline.verify(
        provider,
        secret=signed.secret,
        headers=signed.headers,
        body=signed.body,
        url=signed.url,
        now=NOW,
        tolerance=tolerance,
    )


def test_every_provider_is_classified() -> None:
    assert set(CASES) | UNSIGNED_TIME == set(PROVIDERS)


@pytest.mark.parametrize("provider", sorted(CASES))
def test_a_fresh_timestamp_verifies(provider: str) -> None:
    sign, _, _ = CASES[provider]
    verify(provider, sign(NOW))


@pytest.mark.parametrize("provider", sorted(CASES))
def test_a_timestamp_an_hour_in_the_future(provider: str) -> None:
    sign, accepted, _ = CASES[provider]
    signed = sign(NOW + HOUR)
    if accepted:
        verify(provider, signed)
    else:
        with rejects("timestamp is too far in the future"):
            verify(provider, signed)


@pytest.mark.parametrize("provider", sorted(CASES))
def test_a_timestamp_an_hour_old(provider: str) -> None:
    sign, _, accepted = CASES[provider]
    signed = sign(NOW - HOUR)
    if accepted:
        verify(provider, signed)
    else:
        with rejects("timestamp is too old"):
            verify(provider, signed)


@pytest.mark.parametrize("provider", sorted(name for name, case in CASES.items() if case[2]))
def test_an_explicit_tolerance_bounds_providers_without_a_window_both_ways(provider: str) -> None:
    sign, _, _ = CASES[provider]
    verify(provider, sign(NOW + 60), tolerance=60)
    with rejects("too far in the future"):
        verify(provider, sign(NOW + HOUR), tolerance=60)
    with rejects("too old"):
        verify(provider, sign(NOW - HOUR), tolerance=60)


def test_paddle_five_seconds_either_side() -> None:
    """Paddle's SDKs: ``time() > ts + 5`` fails; any ts ahead of the clock passes."""
    verify("paddle", paddle(NOW - 5))
    with rejects("too old"):
        verify("paddle", paddle(NOW - 6))
    verify("paddle", paddle(NOW + 6))
    verify("paddle", paddle(NOW + 30 * 24 * HOUR))


def verdict(check: Callable[[], object]) -> bool:
    try:
        check()
    except Exception:
        return False
    return True


def ours_now(provider: str, signed: Signed) -> bool:
    return verdict(lambda: hookline.verify(provider, secret=signed.secret, headers=signed.headers, body=signed.body))


# Offsets far from the windows' edges: the official libraries read the real clock.
@pytest.mark.parametrize("offset", [-HOUR, -60, 0, 60, HOUR])
def test_the_official_libraries_agree(offset: int) -> None:
    import slack_sdk.signature
    import standardwebhooks
    import stripe as stripe_library
    import svix.webhooks

    now = int(time.time())
    signed = stripe(now + offset)
    official = verdict(
        lambda: stripe_library.WebhookSignature.verify_header(
            BODY.decode(), signed.headers["Stripe-Signature"], SECRET, tolerance=300
        )
    )
    assert ours_now("stripe", signed) == official == (offset > -300)

    signed = slack(now + offset)
    assert ours_now("slack", signed) == slack_sdk.signature.SignatureVerifier(SECRET).is_valid_request(
        BODY, signed.headers
    )

    signed = standard("webhook")(now + offset)
    official = verdict(lambda: standardwebhooks.Webhook(SECRET).verify(BODY, signed.headers))
    assert ours_now("standard-webhooks", signed) == official == (abs(offset) < 300)
    signed = standard("svix")(now + offset)
    assert ours_now("svix", signed) == verdict(lambda: svix.webhooks.Webhook(SECRET).verify(BODY, signed.headers))
