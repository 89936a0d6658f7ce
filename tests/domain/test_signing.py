"""Standard Webhooks signing against the spec's published vector."""

import pytest

from hookline.domain.signing import (
    InvalidSecretError,
    generate_secret,
    generate_signing_key,
    public_key_of,
    sign,
    sign_all,
    validate_secret,
)

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_published_vector() -> None:
    assert sign(VECTOR_SECRET, MSG_ID, TIMESTAMP, BODY) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_prefix_is_optional() -> None:
    assert sign(VECTOR_SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, BODY) == sign(
        VECTOR_SECRET, MSG_ID, TIMESTAMP, BODY
    )


def test_every_live_key_signs_during_rotation() -> None:
    other = generate_secret()
    header = sign_all([other, VECTOR_SECRET], MSG_ID, TIMESTAMP, BODY)
    assert header.split(" ") == [sign(other, MSG_ID, TIMESTAMP, BODY), sign(VECTOR_SECRET, MSG_ID, TIMESTAMP, BODY)]


def test_generated_secrets_are_24_random_bytes() -> None:
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and len(first) == len("whsec_") + 32
    assert first != second
    validate_secret(first)


def test_generated_signing_keys_sign_v1a() -> None:
    key = generate_signing_key()
    assert key.startswith("whsk_")
    assert public_key_of(key).startswith("whpk_")
    assert sign(key, MSG_ID, TIMESTAMP, BODY).startswith("v1a,")


@pytest.mark.parametrize("bad", ["whsec_not base64!", "whsec_c2hvcnQ=", "", "whsk_AAAA"])
def test_malformed_secrets_are_refused(bad: str) -> None:
    with pytest.raises(InvalidSecretError):
        validate_secret(bad)
