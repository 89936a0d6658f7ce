"""hookline.Webhook and the standard-webhooks/svix providers, against published vectors
and the official standardwebhooks and svix libraries as oracles."""

import base64
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks

import hookline
from hookline.domain.signing import InvalidSecretError, generate_secret, generate_signing_key
from hookline.receiver import Webhook, WebhookPayloadError

from .helpers import rejects

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SIGNING_KEY = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
PUBLIC_KEY = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
V1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
V1A = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="


def headers(signature: str, *, prefix: str = "webhook", ts: int = TS) -> dict[str, str]:
    return {f"{prefix}-id": MSG_ID, f"{prefix}-timestamp": str(ts), f"{prefix}-signature": signature}


def test_v1_published_vector_signs_and_verifies() -> None:
    webhook = Webhook(SECRET)
    assert webhook.sign(MSG_ID, TS, BODY) == V1
    assert webhook.verify(BODY, headers(V1), now=TS) == {"test": 2432232314}


def test_v1a_published_vector_signs_with_whsk_and_verifies_with_whpk() -> None:
    assert Webhook(SIGNING_KEY).sign(MSG_ID, TS, BODY) == V1A
    assert Webhook(PUBLIC_KEY).verify(BODY, headers(V1A), now=TS) == {"test": 2432232314}
    assert Webhook(SIGNING_KEY).verify(BODY, headers(V1A), now=TS) == {"test": 2432232314}


def test_public_key_cannot_sign() -> None:
    with pytest.raises(InvalidSecretError, match="verify but not sign"):
        Webhook(PUBLIC_KEY).sign(MSG_ID, TS, BODY)


def test_sign_accepts_datetime_and_str_body() -> None:
    when = datetime.fromtimestamp(TS, tz=UTC)
    assert Webhook(SECRET).sign(MSG_ID, when, BODY.decode()) == V1


def test_raw_key_bytes_are_a_secret() -> None:
    raw = base64.b64decode(SECRET.removeprefix("whsec_"))
    assert Webhook(raw).sign(MSG_ID, TS, BODY) == V1


def test_svix_header_names() -> None:
    assert Webhook(SECRET).verify(BODY, headers(V1, prefix="svix"), now=TS) == {"test": 2432232314}


def test_headers_are_case_insensitive_and_may_be_pairs() -> None:
    pairs = [(k.upper(), v) for k, v in headers(V1).items()]
    assert Webhook(SECRET).verify(BODY, pairs, now=TS) == {"test": 2432232314}


def test_any_matching_entry_is_enough_and_unknown_versions_are_ignored() -> None:
    other = Webhook(generate_secret()).sign(MSG_ID, TS, BODY)
    header = f"v2,abc {other} v1a,zzz {V1}"
    assert Webhook(SECRET).verify(BODY, headers(header), now=TS)


def test_only_other_versions_present() -> None:
    with rejects("no v1 signature"):
        Webhook(SECRET).verify(BODY, headers(f"v2,whatever {V1A}"), now=TS)
    with rejects("no v1a signature"):
        Webhook(PUBLIC_KEY).verify(BODY, headers(V1), now=TS)


@pytest.mark.parametrize(
    ("body", "secret", "signature"),
    [
        (b'{"test": 2432232315}', SECRET, V1),  # tampered body
        (BODY, generate_secret(), V1),  # wrong secret
        (BODY, SECRET, "v1," + "A" * 44),  # wrong signature
        (BODY, SECRET, "v1,not base64 at all!"),
        (BODY, PUBLIC_KEY, "v1a," + base64.b64encode(b"x" * 64).decode()),
        (BODY, PUBLIC_KEY, "v1a,@@@"),
        (BODY, SECRET, "v1,ünïcödé"),
    ],
    ids=[
        "tampered-body",
        "wrong-secret",
        "wrong-signature",
        "not-base64",
        "wrong-ed25519",
        "ed25519-not-base64",
        "non-ascii",
    ],
)
def test_rejects_bad_signatures(body: bytes, secret: str, signature: str) -> None:
    with rejects("no signature matches"):
        Webhook(secret).verify(body, headers(signature), now=TS)


@pytest.mark.parametrize(("now", "match"), [(TS + 301, "too old"), (TS - 301, "future")])
def test_default_tolerance_is_five_minutes_either_way(now: int, match: str) -> None:
    for inside in (TS + 300, TS - 300):
        Webhook(SECRET).verify(BODY, headers(V1), now=inside)
    with rejects(match):
        Webhook(SECRET).verify(BODY, headers(V1), now=now)


def test_tolerance_is_configurable() -> None:
    with rejects("too old"):
        Webhook(SECRET, tolerance=10).verify(BODY, headers(V1), now=TS + 11)
    assert Webhook(SECRET, tolerance=3600).verify(BODY, headers(V1), now=TS + 3000)


@pytest.mark.parametrize(
    "broken",
    [
        {"webhook-timestamp": "abc"},
        {"webhook-timestamp": "+1614265330"},
        {"webhook-timestamp": "1614265330.5"},
        {"webhook-timestamp": "١٦١٤٢٦٥٣٣٠"},
        {"webhook-signature": ""},
        {"webhook-id": ""},
    ],
)
def test_malformed_headers_raise_verification_error(broken: dict[str, str]) -> None:
    with pytest.raises(hookline.WebhookVerificationError):
        Webhook(SECRET).verify(BODY, headers(V1) | broken, now=TS)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(missing: str) -> None:
    sent = headers(V1)
    del sent[missing]
    with rejects(f"missing {missing}"):
        Webhook(SECRET).verify(BODY, sent, now=TS)


@pytest.mark.parametrize("secret", ["whsec_!!!", "whsec_c2hvcnQ=", "whpk_AAAA", "whsk_@@", "", "ü"])
def test_unusable_secrets_raise_verification_error(secret: str) -> None:
    with pytest.raises(hookline.WebhookVerificationError):
        Webhook(secret)


def test_authentic_non_json_body_is_a_payload_error() -> None:
    body = b"not json"
    signature = Webhook(SECRET).sign(MSG_ID, TS, body)
    with pytest.raises(WebhookPayloadError, match="not valid JSON"):
        Webhook(SECRET).verify(body, headers(signature), now=TS)


@pytest.mark.parametrize("provider", ["standard-webhooks", "svix"])
def test_provider_names_accept_every_key_kind(provider: str) -> None:
    for secret, signature in [(SECRET, V1), (PUBLIC_KEY, V1A), (SIGNING_KEY, V1A)]:
        hookline.verify(provider, secret=secret, headers=headers(V1 + " " + signature), body=BODY, now=TS)
    with rejects("too old"):
        hookline.verify(provider, secret=SECRET, headers=headers(V1), body=BODY, now=TS + 301)
    with rejects("too old"):
        hookline.verify(provider, secret=SECRET, headers=headers(V1), body=BODY, now=TS + 60, tolerance=30)


# --- oracles: the official libraries sign, we verify; we sign, they verify ---

ORACLE_BODY = '{"type": "user.created", "data": {"id": 42, "name": "Zoë"}}'


def oracle_headers(sign: object, ts: datetime) -> dict[str, str]:
    return {"webhook-id": "msg_1", "webhook-timestamp": str(int(ts.timestamp())), "webhook-signature": sign}  # type: ignore[dict-item]


@pytest.mark.parametrize("library", [standardwebhooks.Webhook, svix.webhooks.Webhook])
def test_oracle_signatures_verify_here(library: type) -> None:
    secret = generate_secret()
    ts = datetime.now(tz=UTC)
    signature = library(secret).sign("msg_1", ts, ORACLE_BODY)
    assert Webhook(secret).verify(ORACLE_BODY.encode(), oracle_headers(signature, ts))["data"]["id"] == 42


@pytest.mark.parametrize("library", [standardwebhooks.Webhook, svix.webhooks.Webhook])
def test_our_signatures_verify_in_oracle(library: type) -> None:
    secret = generate_secret()
    ts = datetime.now(tz=UTC)
    bogus = "v1," + base64.b64encode(b"x" * 32).decode()
    signature = f"{bogus} " + Webhook(secret).sign("msg_1", ts, ORACLE_BODY)
    library(secret).verify(ORACLE_BODY, oracle_headers(signature, ts))


@pytest.mark.parametrize(
    ("change", "age"),
    [("body", 0), ("secret", 0), ("stale", 600), ("future", -600)],
)
def test_oracle_and_we_agree_on_rejections(change: str, age: int) -> None:
    secret = generate_secret()
    ts = datetime.fromtimestamp(datetime.now(tz=UTC).timestamp() - age, tz=UTC)
    signature = standardwebhooks.Webhook(secret).sign("msg_1", ts, ORACLE_BODY)
    body = ORACLE_BODY + (" " if change == "body" else "")
    checker = generate_secret() if change == "secret" else secret
    sent = oracle_headers(signature, ts)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(checker).verify(body, sent)
    with pytest.raises(hookline.WebhookVerificationError):
        Webhook(checker).verify(body, sent)


def test_generated_signing_key_round_trips() -> None:
    key = generate_signing_key()
    signature = Webhook(key).sign("msg_2", TS, BODY)
    assert signature.startswith("v1a,")
    from hookline.domain.signing import public_key_of

    assert Webhook(public_key_of(key)).verify(BODY, headers(signature) | {"webhook-id": "msg_2"}, now=TS)
