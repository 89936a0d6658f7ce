"""Client certificates for mutual TLS: what makes a certificate and key usable together.

Pure checks on PEM text; the transport turns an accepted pair into a TLS context.
"""

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

MAX_PEM_BYTES = 64 * 1024


class CertificateError(ValueError):
    """A certificate or key that cannot be used; ``field`` is ``"cert"`` or ``"key"``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_after: int  # epoch milliseconds
    fingerprint: str  # SHA-256 of the DER certificate, hex


def inspect_pair(cert_pem: str, key_pem: str) -> CertificateInfo:
    """Check that ``cert_pem`` is a certificate (chain) and ``key_pem`` its unencrypted private
    key; CertificateError names the one at fault."""
    for name, text in (("cert", cert_pem), ("key", key_pem)):
        if len(text.encode()) > MAX_PEM_BYTES:
            raise CertificateError(name, f"over {MAX_PEM_BYTES // 1024} KiB")
        if "\x00" in text:  # PEM is text; PostgreSQL could not store it, SQLite would
            raise CertificateError(name, "holds a NUL character (\\u0000): PEM is text")
    try:
        chain = x509.load_pem_x509_certificates(cert_pem.encode())
    except ValueError:
        raise CertificateError("cert", "not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except TypeError:
        raise CertificateError("key", "the private key is encrypted; give it without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError("key", "not a PEM private key (-----BEGIN PRIVATE KEY-----)") from None
    if not isinstance(
        key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)
    ):
        raise CertificateError("key", "unsupported key type (use RSA, EC or Ed25519)")
    leaf = chain[0]
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, raw) != leaf.public_key().public_bytes(
        serialization.Encoding.DER, raw
    ):
        raise CertificateError("key", "this key does not belong to the certificate")
    return CertificateInfo(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_after=int(leaf.not_valid_after_utc.timestamp() * 1000),
        fingerprint=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )
