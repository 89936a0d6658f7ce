"""HubSpot v1, v2 and v3, against the vectors in HubSpot's docs and Python SDK tests."""

import pytest

import hookline
from hookline.receiver.providers.hubspot import v3_uri

from .helpers import hmac_b64, rejects

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = b"{'example_field':'example_value'}"
URL = "https://www.example.com/webhook_uri"
V3_TS = "15000000"  # milliseconds, as HubSpot's SDK test uses


def check(headers: dict[str, str], *, body: bytes = BODY, method: str = "POST", url: str = URL, now: float = 0) -> None:
    hookline.verify("hubspot", secret=SECRET, headers=headers, body=body, method=method, url=url, now=now)


def legacy(signature: str, version: str) -> dict[str, str]:
    return {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version}


def test_v1_sdk_and_docs_vectors() -> None:
    check(legacy("69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", "v1"))
    docs_body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    check(legacy("232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", "v1"), body=docs_body)


def test_v2_sdk_vectors_post_and_get() -> None:
    check(legacy("4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", "v2"))
    check(legacy("eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", "v2"), body=b"", method="GET")


def v3(signature: str = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", ts: str = V3_TS) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": ts}


def test_v3_sdk_vector_with_millisecond_timestamp() -> None:
    check(v3(), now=15000)
    check(v3(), now=15000 + 300)
    with rejects("too old"):
        check(v3(), now=15000 + 301)


def test_v3_takes_precedence_over_legacy_headers() -> None:
    with rejects("v3 signature does not match"):
        check(
            v3("x" * 44) | legacy("69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", "v1"), now=15000
        )


def test_v3_decodes_the_documented_escapes_only() -> None:
    assert v3_uri("https://a.com/p%3Aq%2fr?x=%40%20y%2A") == "https://a.com/p:q/r?x=@%20y*"
    url = "https://example.com/hook?email=a%40b.com&q=%2Fx"
    signed_uri = "https://example.com/hook?email=a@b.com&q=/x"
    signature = hmac_b64(SECRET, f"POST{signed_uri}".encode() + BODY + V3_TS.encode())
    check(v3(signature), url=url, now=15000)


@pytest.mark.parametrize(
    ("headers", "kwargs", "match"),
    [
        (
            legacy("69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", "v1"),
            {"body": b"{}"},
            "v1 signature does not match",
        ),
        (
            legacy("4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", "v2"),
            {"method": "PUT"},
            "v2 signature does not match",
        ),
        (
            legacy("4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", "v2"),
            {"url": URL + "/"},
            "v2 signature does not match",
        ),
        (legacy("abc", "v9"), {}, "unknown HubSpot signature version"),
        ({"X-HubSpot-Signature": "abc"}, {}, "missing x-hubspot-signature-version"),
        (v3(ts="15000000.0"), {}, "not an integer"),
        ({"X-HubSpot-Signature-v3": "abc"}, {}, "missing x-hubspot-request-timestamp"),
        ({}, {}, "missing x-hubspot-signature"),
    ],
)
def test_rejections(headers: dict[str, str], kwargs: dict[str, str], match: str) -> None:
    with rejects(match):
        check(headers, now=15000, **kwargs)  # type: ignore[arg-type]
