"""The outbound transport seam: one request in, one result out, never an exception.

The engine depends only on :class:`Transport`. :class:`AiohttpTransport` is the real
one (every socket passes the SSRF guard); :class:`FakeTransport` answers from memory
for unit tests of the engine's policy.
"""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from hookline.delivery.ssrf import Network, describe_error, make_connector


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: Mapping[str, str]
    timeout: float  # seconds for the whole exchange
    body_limit: int  # bytes of the response kept
    method: str = "POST"  # a transformation may make it PUT


@dataclass(frozen=True)
class TransportResult:
    status_code: int  # 0 when there was no HTTP response
    body: str
    duration_ms: int
    error: str | None
    retry_after: str | None = None
    # The SSRF guard refused the address: nothing left this machine.
    blocked: bool = False


class Transport(Protocol):
    async def send(self, request: Request) -> TransportResult:
        """Perform one attempt; network trouble is a result, not an exception."""
        ...

    async def close(self) -> None: ...


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


class AiohttpTransport:
    """POST (or PUT) with aiohttp through the SSRF-guarded connector; never follows redirects."""

    def __init__(self, allowed_cidrs: Sequence[Network] = ()) -> None:
        connector = make_connector(allowed_cidrs, limit=0, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None)
        )

    async def send(self, request: Request) -> TransportResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(request.timeout):
                async with self._session.request(
                    request.method, request.url, data=request.body, headers=dict(request.headers), allow_redirects=False
                ) as resp:
                    raw = await _read_capped(resp, request.body_limit)
                    # Do not drain what is left: a huge body must cost nothing more.
                    resp.close()
                    return TransportResult(
                        status_code=resp.status,
                        body=raw.decode("utf-8", errors="replace"),
                        duration_ms=elapsed(),
                        error=None,
                        retry_after=resp.headers.get("Retry-After"),
                    )
        except TimeoutError:
            return TransportResult(0, "", elapsed(), f"timed out after {request.timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            refusal = describe_error(exc)
            if refusal is not None:
                return TransportResult(0, "", elapsed(), refusal, blocked=True)
            return TransportResult(0, "", elapsed(), f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        await self._session.close()


@dataclass
class FakeTransport:
    """Answers every request with ``respond(request)`` (default: 200) and remembers it."""

    respond: Callable[[Request], TransportResult] = lambda _request: TransportResult(200, "", 0, None)
    sent: list[Request] = field(default_factory=list)
    closed: bool = False

    async def send(self, request: Request) -> TransportResult:
        self.sent.append(request)
        return self.respond(request)

    async def close(self) -> None:
        self.closed = True
