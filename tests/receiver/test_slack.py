"""Slack, against the documented example and slack_sdk's SignatureVerifier as the oracle."""

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

import hookline

from .helpers import hmac_hex, rejects

DOCS_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOCS_TS = "1531420618"
DOCS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
DOCS_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def headers(signature: str = DOCS_SIGNATURE, ts: str = DOCS_TS) -> dict[str, str]:
    return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": ts}


def ours(sent: dict[str, str], *, body: bytes = DOCS_BODY, now: float, secret: str = DOCS_SECRET) -> bool:
    try:
        hookline.verify("slack", secret=secret, headers=sent, body=body, now=now)
    except hookline.WebhookVerificationError:
        return False
    return True


def test_documented_vector() -> None:
    assert ours(headers(), now=int(DOCS_TS) + 10)


@pytest.mark.parametrize(
    ("name", "sent", "body", "secret", "offset"),
    [
        ("valid", headers(), DOCS_BODY, DOCS_SECRET, 0),
        ("tampered", headers(), DOCS_BODY + b"&x=1", DOCS_SECRET, 0),
        ("wrong secret", headers(), DOCS_BODY, "0" * 32, 0),
        ("stale", headers(), DOCS_BODY, DOCS_SECRET, 301),
        ("edge", headers(), DOCS_BODY, DOCS_SECRET, 300),
        ("future", headers(), DOCS_BODY, DOCS_SECRET, -301),
        ("no prefix", headers(DOCS_SIGNATURE[3:]), DOCS_BODY, DOCS_SECRET, 0),
        ("v1 prefix", headers("v1=" + DOCS_SIGNATURE[3:]), DOCS_BODY, DOCS_SECRET, 0),
    ],
)
def test_agrees_with_slack_sdk(name: str, sent: dict[str, str], body: bytes, secret: str, offset: int) -> None:
    now = int(DOCS_TS) + offset
    expected = SignatureVerifier(secret, clock=FixedClock(now)).is_valid_request(body, sent)
    assert ours(sent, body=body, now=now, secret=secret) is expected
    assert expected is (name in ("valid", "edge"))


def test_generated_signature_and_messages() -> None:
    ts = "1700000000"
    body = b'{"type":"event_callback"}'
    signature = "v0=" + hmac_hex("s3cret", f"v0:{ts}:".encode() + body)
    hookline.verify("slack", secret="s3cret", headers=headers(signature, ts), body=body, now=int(ts))
    with rejects("too old"):
        hookline.verify("slack", secret="s3cret", headers=headers(signature, ts), body=body, now=int(ts) + 301)
    with rejects("missing x-slack-request-timestamp"):
        hookline.verify("slack", secret="s3cret", headers={"x-slack-signature": signature}, body=body)
    with rejects("not an integer"):
        hookline.verify("slack", secret="s3cret", headers=headers(signature, "1e9"), body=body)
