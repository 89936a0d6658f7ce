"""The outbound transport seam: one request in, one result out, never an exception.

The engine depends only on :class:`Transport`. :class:`AiohttpTransport` is the real
one (every socket passes the SSRF guard); :class:`FakeTransport` answers from memory
for unit tests of the engine's policy.
"""

import asyncio
import ipaddress
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from yarl import URL

from hookline.delivery.ssrf import Network, check_host, describe_error, make_connector


@dataclass(frozen=True)
class ClientCert:
    """A certificate (chain) and its private key, PEM, presented to receivers that ask."""

    cert: str
    key: str


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: Mapping[str, str]
    timeout: float  # seconds for the whole exchange
    body_limit: int  # bytes of the response kept
    client_cert: ClientCert | None = None
    method: str = "POST"  # a transformation may make it PUT


def client_context(cert: ClientCert) -> ssl.SSLContext:
    """A TLS context that verifies servers as usual and presents ``cert``.

    The ssl module loads certificates only from files: they are written to a private
    temporary folder for the call and removed at once.
    """
    context = ssl.create_default_context()
    with tempfile.TemporaryDirectory(prefix="hookline-mtls-") as folder:
        cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        for path, text in ((cert_path, cert.cert), (key_path, cert.key)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(text)
        context.load_cert_chain(cert_path, key_path)
    return context


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
    """Whether ``url`` (as aiohttp will send it: dot segments resolved) is a capture URL of the
    server at ``base``: same scheme, host and port, and below ``base``'s own path (a public URL
    with a path, ``https://example.com/hookline``, has its capture URLs at ``/hookline/i/``; the
    ``/i/`` of whatever else the host serves is not hookline's)."""
    try:
        target = URL(url)
    except ValueError:
        return False
    same_origin = (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
    return same_origin and target.path.startswith(base.path.rstrip("/") + "/i/")


def sending_session(connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
    """A session that sends on everybody's behalf (deliveries, replays): it keeps no cookies,
    or one endpoint's would go with the next request to that host, whoever's it is; it leaves
    answers as they came, and each request brings its own timeout."""
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


class AiohttpTransport:
    """POST (or PUT, by a transformation) with aiohttp through the SSRF-guarded connector;
    never follows redirects.

    With a ``proxy`` every connection goes to the proxy, so the guard cannot judge the
    target at the socket. The target is then resolved and judged here, and the request
    is pinned to the judged address (the URL names the IP; ``Host`` and TLS keep the
    name), so the proxy cannot be steered elsewhere by a second DNS answer.

    ``own_capture_base``: where this server's capture URLs are (HOOKLINE_CAPTURE_URL, else its
    public URL). Deliveries to its own capture URLs
    (``hookline listen --app`` relays an application's endpoint through one) may reach it
    even on a loopback or private address the guard refuses otherwise, and directly, not
    through the proxy; nothing else there.
    """

    def __init__(
        self,
        allowed_cidrs: Sequence[Network] = (),
        *,
        proxy: str | None = None,
        own_capture_base: str | None = None,
    ) -> None:
        self._allowed = tuple(allowed_cidrs)
        self._proxy = proxy
        # The proxy is the operator's own, often on a private network: only it is connected to.
        connector = (
            aiohttp.TCPConnector(limit=0, limit_per_host=0)
            if proxy
            else make_connector(allowed_cidrs, limit=0, limit_per_host=0)
        )
        self._session = sending_session(connector)
        self._own_base = URL(own_capture_base) if own_capture_base else None
        self._own_session: aiohttp.ClientSession | None = None
        # TLS contexts by client certificate: building one reads files and parses keys.
        self._contexts: dict[ClientCert, ssl.SSLContext] = {}

    def _own_capture_session(self, url: str) -> aiohttp.ClientSession | None:
        if self._own_base is None or not is_own_capture_url(url, self._own_base):
            return None
        if self._own_session is None:
            connector = make_connector(_ANY_ADDRESS, limit=0, limit_per_host=0)
            self._own_session = sending_session(connector)
        return self._own_session

    def _context(self, cert: ClientCert) -> ssl.SSLContext:
        context = self._contexts.get(cert)
        if context is None:
            if len(self._contexts) >= 1000:
                self._contexts.clear()
            context = self._contexts[cert] = client_context(cert)
        return context

    async def _via_proxy(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        """The request options that pin ``url``'s judged address through the proxy."""
        target = URL(url)
        host = target.raw_host or ""
        infos = await asyncio.get_running_loop().getaddrinfo(host, target.port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            check_host(address, self._allowed)
        pinned = target.with_host(addresses[0])
        headers.setdefault("Host", target.raw_authority)
        options: dict[str, Any] = {"proxy": self._proxy, "headers": headers}
        if target.scheme == "https":
            options["server_hostname"] = host  # certificate checked against the name, not the IP
        return {"url": str(pinned), **options}

    async def send(self, request: Request) -> TransportResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(request.timeout):
                session = self._own_capture_session(request.url)
                options: dict[str, Any] = {"url": request.url, "headers": dict(request.headers)}
                if session is None:
                    session = self._session
                    if self._proxy:
                        options = await self._via_proxy(request.url, dict(request.headers))
                if request.client_cert is not None:
                    options["ssl"] = self._context(request.client_cert)
                async with session.request(request.method, data=request.body, allow_redirects=False, **options) as resp:
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
            # (socket.gaierror is an OSError: a name that does not resolve, with or without a proxy.)
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
