"""hookline: a self-hosted webhook platform.

The names below are the small public library surface. They load lazily, so
``import hookline`` stays fast and needs none of the server's dependencies.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hookline._version import __version__

if TYPE_CHECKING:
    from hookline.client import AsyncClient, Client, HooklineError
    from hookline.receiver import Webhook, WebhookPayloadError, WebhookVerificationError, verify

__all__ = [
    "AsyncClient",
    "Client",
    "HooklineError",
    "Webhook",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "__version__",
    "verify",
]

_LAZY = {
    "Webhook": "hookline.receiver",
    "WebhookPayloadError": "hookline.receiver",
    "WebhookVerificationError": "hookline.receiver",
    "verify": "hookline.receiver",
    "Client": "hookline.client",
    "AsyncClient": "hookline.client",
    "HooklineError": "hookline.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hookline' has no attribute {name!r}")
    return getattr(import_module(module), name)
