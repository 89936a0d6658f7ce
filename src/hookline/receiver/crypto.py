"""Small cryptographic building blocks shared by the provider verifiers.

Every comparison here is constant time, and every decoding failure becomes a
:class:`WebhookVerificationError`, never a ``binascii.Error`` or ``ValueError``.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Literal, TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from hookline.receiver.errors import WebhookVerificationError

Algorithm: TypeAlias = Literal["sha1", "sha256", "sha512"]
Encoding: TypeAlias = Literal["hex", "base64"]


def to_bytes(value: str | bytes) -> bytes:
    # surrogatepass: text parsed from a request's JSON may hold half a surrogate pair ("\\ud800"),
    # which plain UTF-8 refuses to encode; it then simply fails to match.
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def hmac_digest(key: str | bytes, content: bytes, algorithm: Algorithm = "sha256") -> bytes:
    return hmac.new(to_bytes(key), content, algorithm).digest()


def encode(digest: bytes, encoding: Encoding) -> str:
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def hmac_text(key: str | bytes, content: bytes, algorithm: Algorithm = "sha256", encoding: Encoding = "hex") -> str:
    """The MAC as providers write it in headers: lowercase hex or standard base64."""
    return encode(hmac_digest(key, content, algorithm), encoding)


def matches_any(value: str, candidates: Iterable[str]) -> bool:
    """True if any candidate equals ``value``; compares every one in constant time."""
    wanted = to_bytes(value)
    found = False
    for candidate in candidates:
        # Bytes, not str: compare_digest rejects non-ASCII str with a TypeError.
        found |= hmac.compare_digest(wanted, to_bytes(candidate))
    return found


def secrets_equal(given: str | bytes, expected: str | bytes) -> bool:
    """Constant time even in the length: compares digests, for passwords and API keys."""
    return hmac.compare_digest(hashlib.sha256(to_bytes(given)).digest(), hashlib.sha256(to_bytes(expected)).digest())


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(f"{what} is not valid base64") from exc


def hexdecode(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise WebhookVerificationError(f"{what} is not valid hex") from exc


def ed25519_key(raw: bytes, what: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise WebhookVerificationError(f"{what} is not a 32-byte Ed25519 public key") from exc


def ed25519_valid(key: Ed25519PublicKey, signature: bytes, content: bytes) -> bool:
    try:
        key.verify(signature, content)
    except InvalidSignature:
        return False
    return True


def p256_key(der: bytes, what: str) -> ec.EllipticCurvePublicKey:
    try:
        key = load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise WebhookVerificationError(f"{what} is not a DER public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise WebhookVerificationError(f"{what} is not an ECDSA P-256 public key")
    return key


def ecdsa_sha256_valid(key: ec.EllipticCurvePublicKey, signature: bytes, content: bytes) -> bool:
    try:
        key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
