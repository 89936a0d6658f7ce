"""Discord (Ed25519, hex key) and SendGrid (ECDSA P-256, base64 DER key): the published
SendGrid SDK vector, and keys generated here with cryptography to sign valid and invalid cases."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hookline

from .helpers import NOW, rejects

# --- SendGrid ---

SG_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpV"
    "KS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SG_SIGNATURE = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
SG_TS = "1600112502"
SG_BODY = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
).encode()


def sendgrid(key: str, signature: str, ts: str = SG_TS, body: bytes = SG_BODY, **kw: float) -> None:
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": signature,
        "X-Twilio-Email-Event-Webhook-Timestamp": ts,
    }
    hookline.verify("sendgrid", secret=key, headers=headers, body=body, **kw)


def test_sendgrid_sdk_vector() -> None:
    sendgrid(SG_KEY, SG_SIGNATURE)


@pytest.mark.parametrize(
    ("key", "signature", "ts", "body"),
    [
        (
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==",
            SG_SIGNATURE,
            SG_TS,
            SG_BODY,
        ),
        (SG_KEY, SG_SIGNATURE, SG_TS, b"payload"),
        (
            SG_KEY,
            "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=",
            SG_TS,
            SG_BODY,
        ),
        (SG_KEY, SG_SIGNATURE, "1600112503", SG_BODY),
        (SG_KEY, base64.b64encode(b"not DER").decode(), SG_TS, SG_BODY),
    ],
)
def test_sendgrid_sdk_rejections(key: str, signature: str, ts: str, body: bytes) -> None:
    with rejects("SendGrid signature does not match"):
        sendgrid(key, signature, ts, body)


def p256() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(der).decode()


def test_sendgrid_generated_keys() -> None:
    private, key = p256()
    ts = str(NOW)
    body = b'[{"event":"delivered"}]\r\n'
    signature = base64.b64encode(private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    sendgrid(key, signature, ts, body, now=NOW)
    with rejects("too old"):
        sendgrid(key, signature, ts, body, now=NOW + 601, tolerance=600)
    with rejects("does not match"):
        sendgrid(p256()[1], signature, ts, body)


def test_sendgrid_key_must_be_p256_der() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with rejects("not an ECDSA P-256 public key"):
        sendgrid(base64.b64encode(der).decode(), SG_SIGNATURE)
    with rejects("not a DER public key"):
        sendgrid(base64.b64encode(b"junk").decode(), SG_SIGNATURE)
    with rejects("not valid base64"):
        sendgrid("-----BEGIN PUBLIC KEY-----", SG_SIGNATURE)


# --- Discord ---


def discord_key() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    return private, private.public_key().public_bytes_raw().hex()


def discord(key: str, signature: str, ts: str, body: bytes, **kw: float) -> None:
    headers = {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": ts}
    hookline.verify("discord", secret=key, headers=headers, body=body, **kw)


def test_discord_generated_keys() -> None:
    private, key = discord_key()
    ts, body = str(NOW), b'{"type":1}'
    signature = private.sign(ts.encode() + body).hex()
    discord(key, signature, ts, body)
    discord(key.upper(), signature.upper(), ts, body)  # hex is hex
    with rejects("Discord signature does not match"):
        discord(key, signature, ts, b'{"type":2}')
    with rejects("Discord signature does not match"):
        discord(key, signature, str(NOW + 1), body)
    with rejects("Discord signature does not match"):
        discord(discord_key()[1], signature, ts, body)
    with rejects("too old"):
        discord(key, signature, ts, body, now=NOW + 10, tolerance=5)


@pytest.mark.parametrize(
    ("key", "signature", "match"),
    [
        ("zz", "00", "Discord public key is not valid hex"),
        ("00" * 31, "00" * 64, "not a 32-byte Ed25519 public key"),
        ("00" * 32 + "00", "00", "not a 32-byte Ed25519 public key"),
        (None, "xyz", "Discord signature is not valid hex"),
        (None, "00" * 63, "does not match"),
    ],
)
def test_discord_malformed(key: str | None, signature: str, match: str) -> None:
    with rejects(match):
        discord(key or discord_key()[1], signature, str(NOW), b"{}")
