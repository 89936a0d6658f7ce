"""Stripe, with the official stripe library as the oracle."""

import time

import pytest
import stripe

import hookline

from .helpers import NOW, hmac_hex, rejects

SECRET = "whsec_test_7f1c2a9b3d"
BODY = '{"id": "evt_1", "object": "event", "type": "charge.succeeded", "note": "café"}'


def stripe_header(payload: str = BODY, secret: str = SECRET, timestamp: int = NOW) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def ours(header: str, *, now: float = NOW, body: str = BODY, secret: str = SECRET) -> None:
    hookline.verify("stripe", secret=secret, headers={"Stripe-Signature": header}, body=body.encode(), now=now)


def oracle(header: str, *, body: str = BODY, secret: str = SECRET, tolerance: int | None = 300) -> bool:
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError:
        return False
    return True


def test_oracle_signature_verifies() -> None:
    ours(stripe_header())


def test_several_v1_signatures_one_valid_and_v0_ignored() -> None:
    valid = stripe_header().split(",")[1]
    header = f"t={NOW},v1={'0' * 64},v0={'1' * 64},{valid}"
    ours(header)
    assert oracle(header, tolerance=None)  # the oracle's clock is real: no window here


@pytest.mark.parametrize(
    ("case", "header", "kwargs", "match"),
    [
        ("tampered", stripe_header(), {"body": BODY + " "}, "no Stripe signature matches"),
        ("wrong secret", stripe_header(), {"secret": "whsec_other"}, "no Stripe signature matches"),
        ("stale", stripe_header(timestamp=NOW - 301), {}, "too old"),
        ("v0 only", f"t={NOW},v0={'a' * 64}", {}, "no v1 signature"),
        ("no timestamp", f"v1={'a' * 64}", {}, "no t= timestamp"),
        ("bad timestamp", f"t=soon,v1={'a' * 64}", {}, "not an integer"),
        ("garbage", "ünïcödé", {}, "no t= timestamp"),
    ],
)
def test_rejections(case: str, header: str, kwargs: dict[str, str], match: str) -> None:
    with rejects(match):
        ours(header, **kwargs)  # type: ignore[arg-type]


def test_rejections_agree_with_oracle_on_live_clock() -> None:
    now = int(time.time())
    cases = {
        "valid": (stripe_header(timestamp=now), BODY, SECRET, True),
        "tampered": (stripe_header(timestamp=now), BODY + "x", SECRET, False),
        "wrong secret": (stripe_header(timestamp=now), BODY, "whsec_nope", False),
        "stale": (stripe_header(timestamp=now - 400), BODY, SECRET, False),
        # Stripe's library only rejects old timestamps; so do we.
        "future": (stripe_header(timestamp=now + 400), BODY, SECRET, True),
    }
    for name, (header, body, secret, expected) in cases.items():
        assert oracle(header, body=body, secret=secret) is expected, name
        try:
            ours(header, now=now, body=body, secret=secret)
            accepted = True
        except hookline.WebhookVerificationError:
            accepted = False
        assert accepted is expected, name


def test_signed_content_is_timestamp_dot_body() -> None:
    header = f"t={NOW},v1={hmac_hex(SECRET, f'{NOW}.{BODY}'.encode())}"
    ours(header)


def test_missing_header_and_tolerance_override() -> None:
    with rejects("missing stripe-signature"):
        hookline.verify("stripe", secret=SECRET, headers={}, body=BODY, now=NOW)
    with rejects("too old"):
        hookline.verify(
            "stripe",
            secret=SECRET,
            headers={"stripe-signature": stripe_header()},
            body=BODY,
            now=NOW + 61,
            tolerance=60,
        )
