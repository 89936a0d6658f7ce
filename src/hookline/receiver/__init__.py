"""Verify incoming webhooks: Standard Webhooks and the major providers' own schemes.

Needs only the core dependencies; framework integrations live in
:mod:`hookline.receiver.integrations` and import their framework themselves.
"""

from hookline.receiver.errors import (
    WebhookPayloadError,
    WebhookReplayError,
    WebhookVerificationError,
)
from hookline.receiver.generic import ApiKeyScheme, HmacScheme
from hookline.receiver.headers import Headers
from hookline.receiver.payload import parse_payload
from hookline.receiver.providers import PROVIDERS, Verifier
from hookline.receiver.replay import (
    AsyncRedisReplayGuard,
    MemoryReplayGuard,
    RedisReplayGuard,
    webhook_id,
)
from hookline.receiver.request import SignedRequest
from hookline.receiver.standard import Webhook
from hookline.receiver.verify import verify

__all__ = [
    "PROVIDERS",
    "ApiKeyScheme",
    "AsyncRedisReplayGuard",
    "Headers",
    "HmacScheme",
    "MemoryReplayGuard",
    "RedisReplayGuard",
    "SignedRequest",
    "Verifier",
    "Webhook",
    "WebhookPayloadError",
    "WebhookReplayError",
    "WebhookVerificationError",
    "parse_payload",
    "verify",
    "webhook_id",
]
