"""The outbound transport seam: one request in, one result out, never an exception.

The engine depends only on :class:`Transport`. :class:`AiohttpTransport` is the real
one (every socket passes the SSRF guard); :class:`FakeTransport` answers from memory
for unit tests of the engine's policy.
"""

import asyncio
import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from yarl import URL

from hookline.delivery.ssrf import Network, describe_error, make_connector


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: Mapping[str, str]
    timeout: float  # seconds for the whole exchange
    body_limit: int  # bytes of the response kept


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


# Every address: for this server's own capture URLs only (see ``own_capture_base``).
_ANY_ADDRESS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def is_own_capture_url(url: str, base: URL) -> bool:
    """Whether ``url`` (as aiohttp will send it: dot segments resolved) is a capture URL
    (``/i/...``) of the server at ``base``: same scheme, host and port."""
    try:
        target = URL(url)
    except ValueError:
        return False
    same_origin = (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
    return same_origin and target.path.startswith("/i/")


class AiohttpTransport:
    """POST with aiohttp through the SSRF-guarded connector; never follows redirects.

    ``own_capture_base``: this server's public URL. Deliveries to its own capture URLs
    (``hookline listen --app`` relays an application's endpoint through one) may reach it
    even on a loopback or private address the guard refuses otherwise; nothing else there.
    """

    def __init__(self, allowed_cidrs: Sequence[Network] = (), *, own_capture_base: str | None = None) -> None:
        connector = make_connector(allowed_cidrs, limit=0, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None)
        )
        self._own_base = URL(own_capture_base) if own_capture_base else None
        self._own_session: aiohttp.ClientSession | None = None

    def _session_for(self, url: str) -> aiohttp.ClientSession:
        if self._own_base is None or not is_own_capture_url(url, self._own_base):
            return self._session
        if self._own_session is None:
            connector = make_connector(_ANY_ADDRESS, limit=0, limit_per_host=0)
            self._own_session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None)
            )
        return self._own_session

    async def send(self, request: Request) -> TransportResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(request.timeout):
                async with self._session_for(request.url).post(
                    request.url, data=request.body, headers=dict(request.headers), allow_redirects=False
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
        if self._own_session is not None:
            await self._own_session.close()


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
