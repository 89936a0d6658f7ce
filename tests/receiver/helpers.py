"""Small helpers for building signed requests in tests."""

import base64
import hashlib
import hmac
from contextlib import AbstractContextManager

import pytest

from hookline.receiver import WebhookVerificationError

NOW = 1_700_000_000


def hmac_hex(key: str, content: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(key.encode(), content, algorithm).hexdigest()


def hmac_b64(key: str, content: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac.new(key.encode(), content, algorithm).digest()).decode()


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def rejects(match: str) -> AbstractContextManager[pytest.ExceptionInfo[WebhookVerificationError]]:
    """Expect a verification failure whose message contains ``match``."""
    return pytest.raises(WebhookVerificationError, match=match)
