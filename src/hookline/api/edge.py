"""ASGI middleware at the front door: who the client is, and how often a token may call."""

import hashlib
import math
import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api.middleware import send_json
from hookline.domain.addresses import Network, client_address, in_networks
from hookline.domain.throttle import admit, blocked_until


class ClientAddressMiddleware:
    """Sets the ASGI ``client`` to the address behind the operator's trusted proxies
    (``HOOKLINE_TRUSTED_PROXIES``), so every route, allow-list and log sees the same one, and
    the scheme to the proxy's ``X-Forwarded-Proto`` (cookies are ``Secure`` and HSTS is sent
    when the proxy terminated TLS)."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer = scope["client"][0]
            forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
            address = client_address(peer, forwarded, self.trusted)
            if address != peer:
                scope["client"] = (address, 0)  # the client's port is not known through a proxy
            if in_networks(peer, self.trusted):
                proto = next((v for k, v in scope["headers"] if k == b"x-forwarded-proto"), b"").strip().lower()
                if proto in (b"http", b"https"):
                    secure = proto == b"https"
                    scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto.decode()
        await self.app(scope, receive, send)


class TokenRateLimitMiddleware:
    """At most ``rate`` management API requests per second per token (a burst of the same
    size), in this process; past it, 429 with ``Retry-After``. Off unless HOOKLINE_API_RATE_LIMIT."""

    _MAX_KEYS = 100_000

    def __init__(self, app: ASGIApp, rate: int, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.rate = rate
        self.prefixes = prefixes
        self._tats: dict[bytes, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            token = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            if token is not None:
                key = hashlib.sha256(token).digest()  # the token itself is not kept
                now = int(time.time() * 1000)
                admission = admit(self._tats.get(key), now, self.rate, 1, burst=self.rate)
                if not admission.admitted:
                    wait = max(1, math.ceil((blocked_until(self._tats[key], self.rate, self.rate) - now) / 1000))
                    detail = f"more than {self.rate} requests per second with this token; retry in {wait} s"
                    await send_json(
                        send, 429, {"code": "rate_limited", "detail": detail}, [(b"retry-after", str(wait).encode())]
                    )
                    return
                if len(self._tats) >= self._MAX_KEYS:
                    self._tats.clear()
                self._tats[key] = admission.tat
        await self.app(scope, receive, send)


HSTS = (b"strict-transport-security", b"max-age=31536000")


class StrictTransportMiddleware:
    """Every answer to an https request says ``Strict-Transport-Security``: browsers then come
    back to this host (the dashboard, its cookies) over https only, for a year. Plain http answers
    never carry it (browsers would ignore it there, and it must not pin a host that has no TLS).
    The scheme is https when ``serve --tls-cert`` serves TLS, or behind a proxy that says so with
    HOOKLINE_PROXY_HEADERS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == HSTS[0] for name, _ in headers):
                    headers.append(HSTS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_hsts)


CAPTURE_PREFIX = "/i/"


class CaptureHostMiddleware:
    """With HOOKLINE_CAPTURE_URL, capture URLs (``/i/``) answer on its host only, and that host
    answers nothing else: a bin's answer, which whoever made the bin chose, never comes from
    the dashboard's origin, and the dashboard and API never from the capture host. Anything
    asked of the wrong host gets 421 Misdirected Request, naming the right one. The host is the
    request's ``Host`` (a reverse proxy must pass it on)."""

    def __init__(self, app: ASGIApp, capture_host: str, capture_base: str, public_base: str) -> None:
        self.app = app
        self.capture_host = capture_host
        self.capture_base = capture_base
        self.public_base = public_base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        capture = scope["path"].startswith(CAPTURE_PREFIX)
        if capture == (_host_name(scope) == self.capture_host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if capture:
            detail = f"capture URLs are served at {self.capture_base}{CAPTURE_PREFIX}..., not on this host"
        else:
            detail = f"this host serves capture URLs only; the dashboard and the API are at {self.public_base}"
        await send_json(send, 421, {"code": "misdirected", "detail": detail})


def _host_name(scope: Scope) -> str:
    """The request's host name, lower case, without its port or a trailing dot."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1").strip().lower()
    if host.startswith("["):  # an IPv6 literal
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")
