"""One HTTP attempt: sign, POST, read at most a bounded response."""

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from hookline._version import __version__
from hookline.delivery.ssrf import describe_error
from hookline.domain.signing import sign_all

USER_AGENT = f"hookline/{__version__} (+https://github.com/hookline/hookline)"
# Headers a user's custom headers may not replace: they carry the signature.
_RESERVED = frozenset(
    {
        "content-type",
        "user-agent",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
    }
)


@dataclass(frozen=True)
class Response:
    status_code: int  # 0 when there was no HTTP response
    body: str
    duration_ms: int
    error: str | None
    retry_after: str | None = None


def signature_headers(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str], mode: str) -> dict[str, str]:
    signature = sign_all(list(secrets), msg_id, timestamp, body)
    values = {"id": msg_id, "timestamp": str(timestamp), "signature": signature}
    prefixes = {"webhook": ("webhook",), "svix": ("svix",), "both": ("webhook", "svix")}[mode]
    return {f"{p}-{k}": v for p in prefixes for k, v in values.items()}


def request_headers(
    msg_id: str,
    timestamp: int,
    body: bytes,
    secrets: Sequence[str],
    mode: str,
    custom: Mapping[str, str],
) -> dict[str, str]:
    headers = {k: v for k, v in custom.items() if k.lower() not in _RESERVED}
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = USER_AGENT
    headers.update(signature_headers(msg_id, timestamp, body, secrets, mode))
    return headers


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = await response.content.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    body_limit: int,
) -> Response:
    """POST once; never raises for network trouble, never follows redirects."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(timeout):
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                raw = await _read_capped(resp, body_limit)
                # Do not drain what is left: a huge body must cost nothing more.
                resp.close()
                return Response(
                    status_code=resp.status,
                    body=raw.decode("utf-8", errors="replace"),
                    duration_ms=elapsed(),
                    error=None,
                    retry_after=resp.headers.get("Retry-After"),
                )
    except TimeoutError:
        return Response(0, "", elapsed(), f"timed out after {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        reason = describe_error(exc) or f"{type(exc).__name__}: {exc}"
        return Response(0, "", elapsed(), reason)
