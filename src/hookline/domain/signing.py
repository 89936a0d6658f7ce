"""Standard Webhooks signatures: v1 (HMAC-SHA256) and v1a (Ed25519).

Shared by the delivery engine (signing) and the receiver library (verifying).
"""

import base64
import binascii
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SYMMETRIC_PREFIX = "whsec_"
SECRET_KEY_PREFIX = "whsk_"  # noqa: S105 - a prefix, not a secret
PUBLIC_KEY_PREFIX = "whpk_"


class InvalidSecretError(ValueError):
    """The text is not a usable webhook secret."""


def generate_secret() -> str:
    """A new symmetric secret: ``whsec_`` and base64 of 24 random bytes."""
    return SYMMETRIC_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def generate_signing_key() -> str:
    """A new Ed25519 secret key: ``whsk_`` and base64 of seed + public key."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return SECRET_KEY_PREFIX + base64.b64encode(seed + private.public_key().public_bytes_raw()).decode()


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError(f"{what} is not valid base64") from exc


def symmetric_key(secret: str) -> bytes:
    """The raw HMAC key of a ``whsec_`` secret (the prefix is optional)."""
    raw = _b64(secret.removeprefix(SYMMETRIC_PREFIX), "secret")
    # The spec asks for 24 to 64 bytes; Svix accepts up to 100 base64 characters.
    if not 24 <= len(raw) <= 75:
        raise InvalidSecretError("secret must decode to 24 to 75 bytes")
    return raw


def _private_key(secret: str) -> Ed25519PrivateKey:
    raw = _b64(secret.removeprefix(SECRET_KEY_PREFIX), "signing key")
    if len(raw) not in (32, 64):
        raise InvalidSecretError("whsk_ key must decode to 32 or 64 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


def public_key_of(secret: str) -> str:
    """The ``whpk_`` public key that matches a ``whsk_`` secret key."""
    public = _private_key(secret).public_key().public_bytes_raw()
    return PUBLIC_KEY_PREFIX + base64.b64encode(public).decode()


def is_asymmetric(secret: str) -> bool:
    return secret.startswith(SECRET_KEY_PREFIX)


def validate_secret(secret: str) -> None:
    """Raise :class:`InvalidSecretError` unless ``secret`` can sign."""
    if is_asymmetric(secret):
        _private_key(secret)
    else:
        symmetric_key(secret)


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature entry, ``v1,<b64>`` or ``v1a,<b64>`` by the secret's kind."""
    content = signed_content(msg_id, timestamp, body)
    if is_asymmetric(secret):
        return "v1a," + base64.b64encode(_private_key(secret).sign(content)).decode()
    mac = hmac.new(symmetric_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sign_all(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one entry per still-valid key."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def verify_v1(key: bytes, content: bytes, signature_b64: str) -> bool:
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature_b64.encode())


def verify_v1a(public_key: bytes, content: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, content)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
