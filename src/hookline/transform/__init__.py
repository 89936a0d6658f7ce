"""Endpoint transformations: JavaScript run in a V8 sandbox, following Svix's contract.

The code defines ``function handler(webhook)``. ``webhook.method``, ``webhook.url``,
``webhook.payload`` and ``webhook.eventType`` (read-only) are given, with an empty
``webhook.headers``; the handler may change method (POST or PUT), url and payload, add
headers, or set ``webhook.cancel = true``, and returns the webhook object.

    result = await run(code, {"method": "POST", "url": url, "payload": p, "eventType": t})
"""

import asyncio
from typing import Any

from hookline.transform.sandbox import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    MAX_CODE_BYTES,
    Sandbox,
    TransformError,
    TransformResult,
    interpret,
)

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "MAX_CODE_BYTES",
    "Sandbox",
    "TransformError",
    "TransformResult",
    "interpret",
    "run",
    "shutdown",
    "simulate",
]

# One shared sandbox per event loop: worker pipes belong to the loop that started them.
_shared: tuple[asyncio.AbstractEventLoop, Sandbox] | None = None


def _sandbox() -> Sandbox:
    global _shared
    loop = asyncio.get_running_loop()
    if _shared is None or _shared[0] is not loop:
        _shared = (loop, Sandbox())
    return _shared[1]


async def shutdown() -> None:
    """Stop the shared sandbox's workers (at application shutdown)."""
    global _shared
    if _shared is not None and _shared[0] is asyncio.get_running_loop():
        await _shared[1].close()
    _shared = None


def _webhook(webhook: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "headers": {}, **webhook}


async def run(
    code: str, webhook: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> TransformResult | TransformError:
    """Transform one delivery's request. Never raises for anything the code does."""
    return await _sandbox().run(code, _webhook(webhook), timeout=timeout)


async def simulate(
    code: str, webhook: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> TransformResult | TransformError:
    """The same run on a sample webhook, for the simulate API: the result or the error."""
    return await run(code, webhook, timeout=timeout)
