"""Standard Webhooks (and Svix, the same scheme under ``svix-*`` header names)."""

import base64
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from hookline.domain import signing
from hookline.receiver.crypto import b64decode, ed25519_key, to_bytes
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers, HeadersLike
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.payload import parse_json
from hookline.receiver.request import SignedRequest, check_window, checked_tolerance

# Seconds, either way: what every reference library uses (standardwebhooks and svix ``verify``
# raise "Message timestamp too old" / "too new" outside it).
DEFAULT_TOLERANCE = 5 * 60


class Webhook:
    """Sign and verify Standard Webhooks with one secret.

    ``secret`` is a ``whsec_`` symmetric secret (v1, HMAC-SHA256; raw key bytes
    are accepted too), a ``whsk_`` Ed25519 secret key (signs and verifies v1a)
    or a ``whpk_`` Ed25519 public key (verifies v1a only).
    """

    def __init__(self, secret: str | bytes, *, tolerance: float = DEFAULT_TOLERANCE) -> None:
        if isinstance(secret, bytes):
            secret = signing.SYMMETRIC_PREFIX + base64.b64encode(secret).decode()
        self.tolerance = checked_tolerance(tolerance)
        self._signing_secret: str | None = None
        try:
            self.version, self._check = self._load(secret)
        except signing.InvalidSecretError as exc:
            raise WebhookVerificationError(f"unusable webhook secret: {exc}") from exc

    def _load(self, secret: str) -> tuple[str, Callable[[bytes, str], bool]]:
        """The version this secret checks (``v1`` or ``v1a``) and how to check one entry."""
        if secret.startswith(signing.PUBLIC_KEY_PREFIX):
            public = b64decode(secret.removeprefix(signing.PUBLIC_KEY_PREFIX), "whpk_ key")
            ed25519_key(public, "whpk_ key")
            return "v1a", partial(signing.verify_v1a, public)
        self._signing_secret = secret
        if signing.is_asymmetric(secret):
            public_text = signing.public_key_of(secret).removeprefix(signing.PUBLIC_KEY_PREFIX)
            return "v1a", partial(signing.verify_v1a, base64.b64decode(public_text))
        return "v1", partial(signing.verify_v1, signing.symmetric_key(secret))

    def sign(self, msg_id: str, timestamp: int | datetime, body: bytes | str) -> str:
        """One signature entry, ``v1,<base64>`` or ``v1a,<base64>``."""
        if self._signing_secret is None:
            raise signing.InvalidSecretError("a whpk_ public key can verify but not sign")
        seconds = int(timestamp.timestamp()) if isinstance(timestamp, datetime) else timestamp
        return signing.sign(self._signing_secret, msg_id, seconds, to_bytes(body))

    def verify(self, body: bytes | str, headers: HeadersLike, *, now: float | None = None) -> Any:
        """Check signature and timestamp, then return the parsed JSON payload."""
        data = to_bytes(body)
        self.verify_signature(Headers(headers), data, now=time.time() if now is None else now)
        return parse_json(data)

    def verify_signature(self, headers: Headers, body: bytes, *, now: float, tolerance: float | None = None) -> None:
        """Raise :class:`WebhookVerificationError` unless the request is authentic and fresh."""
        msg_id = headers.require("webhook-id", "svix-id")
        timestamp = parse_timestamp(headers.require("webhook-timestamp", "svix-timestamp"))
        signatures = headers.require("webhook-signature", "svix-signature")
        window = self.tolerance if tolerance is None else tolerance
        check_window(timestamp, now=now, tolerance=window)
        candidates = _entries(signatures, self.version)
        if not candidates:
            raise WebhookVerificationError(f"no {self.version} signature in the header")
        content = signing.signed_content(msg_id, timestamp, body)
        if not any(self._check(content, candidate) for candidate in candidates):
            raise WebhookVerificationError("no signature matches")


def _entries(header: str, version: str) -> list[str]:
    """The signatures of one version; entries of unknown versions are ignored."""
    found = []
    for entry in header.split():
        name, comma, signature = entry.partition(",")
        if comma and name == version:
            found.append(signature)
    return found


def verify_standard(request: SignedRequest) -> None:
    """``standard-webhooks`` and ``svix``: secret is ``whsec_``, ``whpk_`` or ``whsk_``."""
    Webhook(request.secret).verify_signature(
        request.headers, request.body, now=request.now, tolerance=request.tolerance
    )
