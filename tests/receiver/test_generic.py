"""The configurable HMAC scheme, API keys and HTTP basic auth."""

import base64

import pytest

import hookline
from hookline.receiver import ApiKeyScheme, HmacScheme

from .helpers import NOW, hmac_b64, hmac_hex, rejects

SECRET = "generic-secret"
BODY = b'{"ok": true}'


def test_default_scheme_is_hex_sha256_of_body() -> None:
    scheme = HmacScheme(header="X-Signature")
    hookline.verify(scheme, secret=SECRET, headers={"x-signature": hmac_hex(SECRET, BODY)}, body=BODY)
    with rejects("X-Signature signature does not match"):
        hookline.verify(scheme, secret=SECRET, headers={"x-signature": hmac_hex(SECRET, BODY + b" ")}, body=BODY)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_algorithms_encodings_and_prefix(algorithm: str, encoding: str) -> None:
    scheme = HmacScheme(header="X-Sig", algorithm=algorithm, encoding=encoding, prefix=f"{algorithm}=")  # type: ignore[arg-type]
    mac = (hmac_hex if encoding == "hex" else hmac_b64)(SECRET, BODY, algorithm)
    hookline.verify(scheme, secret=SECRET, headers={"X-Sig": f"{algorithm}={mac}"}, body=BODY)
    with rejects("does not start with"):
        hookline.verify(scheme, secret=SECRET, headers={"X-Sig": mac}, body=BODY)


def test_timestamp_template() -> None:
    scheme = HmacScheme(
        header="X-Signature",
        prefix="v1=",
        template="{timestamp}.{body}",
        timestamp_header="X-Timestamp",
    )
    headers = {"X-Signature": "v1=" + hmac_hex(SECRET, f"{NOW}.".encode() + BODY), "X-Timestamp": str(NOW)}
    hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW + 300)
    with rejects("too old"):
        hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW + 301)
    with rejects("future"):
        hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW - 301)
    with rejects("does not match"):
        hookline.verify(scheme, secret=SECRET, headers=headers | {"X-Timestamp": str(NOW + 1)}, body=BODY, now=NOW)
    with rejects("missing X-Timestamp"):
        hookline.verify(scheme, secret=SECRET, headers={"X-Signature": "v1=x"}, body=BODY, now=NOW)


def test_body_first_template_and_scheme_tolerance() -> None:
    scheme = HmacScheme(header="sig", template="{body}:{timestamp}", timestamp_header="ts", tolerance=10)
    headers = {"sig": hmac_hex(SECRET, BODY + f":{NOW}".encode()), "ts": str(NOW)}
    hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW + 10)
    with rejects("too old"):
        hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW + 11)
    hookline.verify(scheme, secret=SECRET, headers=headers, body=BODY, now=NOW + 60, tolerance=60)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"template": "{timestamp}"},
        {"template": "{body}{body}"},
        {"template": "{id}.{body}"},
        {"template": "{timestamp}.{body}"},
        {"algorithm": "md5"},
        {"encoding": "base32"},
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        HmacScheme(header="x", **kwargs)  # type: ignore[arg-type]


def test_hmac_is_not_a_provider_name() -> None:
    with pytest.raises(ValueError, match=r"HmacScheme"):
        hookline.verify("hmac", secret=SECRET, headers={}, body=BODY)


def test_api_key_default_header() -> None:
    hookline.verify("api-key", secret="k-123", headers={"X-API-Key": "k-123"}, body=b"")
    with rejects("x-api-key does not match"):
        hookline.verify("api-key", secret="k-123", headers={"X-API-Key": "k-124"}, body=b"")
    with rejects("x-api-key does not match"):
        hookline.verify("api-key", secret="k-123", headers={"X-API-Key": "k-123-and-more"}, body=b"")
    with rejects("missing x-api-key"):
        hookline.verify("api-key", secret="k-123", headers={"Authorization": "Bearer k-123"}, body=b"")


def test_bearer_token() -> None:
    scheme = ApiKeyScheme("Authorization", "Bearer ")
    hookline.verify(scheme, secret="tok", headers={"Authorization": "bearer tok"}, body=b"")
    with rejects("does not start with 'Bearer '"):
        hookline.verify(scheme, secret="tok", headers={"Authorization": "Basic tok"}, body=b"")
    with rejects("does not match"):
        hookline.verify(scheme, secret="tok", headers={"Authorization": "Bearer tok2"}, body=b"")


def basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def test_basic_auth() -> None:
    hookline.verify("basic-auth", secret="hook:pässword", headers=basic("hook:pässword".encode()), body=b"")
    for wrong in (b"hook:password", b"hook2:p\xc3\xa4ssword", b"hook", b""):
        with rejects("Basic credentials do not match"):
            hookline.verify("basic-auth", secret="hook:pässword", headers=basic(wrong), body=b"")
    with rejects("not Basic"):
        hookline.verify("basic-auth", secret="a:b", headers={"Authorization": "Bearer a:b"}, body=b"")
    with rejects("not valid base64"):
        hookline.verify("basic-auth", secret="a:b", headers={"Authorization": "Basic a:b"}, body=b"")
