"""Twilio, against twilio-python's published test vectors and its RequestValidator as oracle."""

import pytest
from twilio.request_validator import RequestValidator

import hookline

from .helpers import hmac_b64, rejects

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
FORM = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309"
JSON_BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def ok(url: str, body: bytes, signature: str, token: str = TOKEN, **headers: str) -> bool:
    try:
        hookline.verify(
            "twilio", secret=token, headers={"X-Twilio-Signature": signature, **headers}, body=body, url=url
        )
    except hookline.WebhookVerificationError:
        return False
    return True


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # Published: a port in an https URL is dropped, a missing one added, on http too.
        (URL.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (URL.replace(".com", ".com:1234").replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        (URL.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_published_form_vectors(url: str, signature: str) -> None:
    assert ok(url, FORM, signature)


def test_published_duplicate_parameter_vector() -> None:
    body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
    assert ok(URL, body, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_published_json_body_vector() -> None:
    url = f"{URL}&bodySHA256={BODY_HASH}"
    assert ok(url, JSON_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=")
    assert not ok(url, JSON_BODY + b" ", "a9nBmqA0ju/hNViExpshrM61xv4=")


ORACLE_CASES = [
    ("form", URL, FORM),
    ("blank and unicode values", "https://example.com/sms", b"Body=Caf%C3%A9+%F0%9F%8E%89&Empty=&To=%2B1"),
    ("repeated names", "https://example.com/x?y=1", b"a=2&a=1&b=&a=2"),
    ("port", "https://example.com:8443/voice", FORM),
    ("http", "http://example.com/voice", FORM),
    ("no params", "https://example.com/status?x=%2F", b""),
]


@pytest.mark.parametrize(("name", "url", "body"), ORACLE_CASES)
@pytest.mark.parametrize("algorithm", ["HMAC_SHA1", "HMAC_SHA256"])
def test_oracle_signatures_verify_and_tampering_fails(name: str, url: str, body: bytes, algorithm: str) -> None:
    from urllib.parse import parse_qs

    validator = RequestValidator(TOKEN)
    params = parse_qs(body.decode(), keep_blank_values=True)
    # The oracle takes a dict of lists through getlist-less .get: use a MultiDict-like shim.
    signature = validator.compute_signature(url, _MultiDict(params), algorithm)
    settings = {"X-Twilio-Webhooks-Signature-Settings": f"key=k1,algorithm={algorithm}"}
    assert ok(url, body, signature, **settings)
    assert validator.validate(url, _MultiDict(params), signature, algorithm)
    assert not ok(url, body + b"&extra=1", signature, **settings)
    assert not ok(url, body, signature, token="54321", **settings)
    assert not ok(url.replace("://", "://evil."), body, signature, **settings)


class _MultiDict(dict[str, list[str]]):
    """What RequestValidator expects from a framework: getlist for repeated names."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def test_algorithm_header_must_match_the_signature() -> None:
    signature = hmac_b64(TOKEN, b"https://example.com/a", "sha256")
    assert ok(
        "https://example.com/a", b"", signature, **{"x-twilio-webhooks-signature-settings": "algorithm=HMAC_SHA256"}
    )
    assert not ok("https://example.com/a", b"", signature)
    with rejects("unsupported Twilio algorithm"):
        hookline.verify(
            "twilio",
            secret=TOKEN,
            headers={"x-twilio-signature": signature, "x-twilio-webhooks-signature-settings": "algorithm=MD5"},
            body=b"",
            url="https://example.com/a",
        )


def test_needs_url_and_header_and_valid_port() -> None:
    with rejects("pass url="):
        hookline.verify("twilio", secret=TOKEN, headers={"x-twilio-signature": "x"}, body=FORM)
    with rejects("missing x-twilio-signature"):
        hookline.verify("twilio", secret=TOKEN, headers={}, body=FORM, url=URL)
    with rejects("invalid URL"):
        hookline.verify(
            "twilio", secret=TOKEN, headers={"x-twilio-signature": "x"}, body=FORM, url="https://a:99999999/"
        )
    with rejects("not UTF-8"):
        hookline.verify("twilio", secret=TOKEN, headers={"x-twilio-signature": "x"}, body=b"\xff=1", url=URL)
