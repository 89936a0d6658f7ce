"""The inspector: capture URLs ("bins") that record every request, answer as configured, verify
signatures, stream what arrives, replay it elsewhere, and hand it to a ``hookline listen``.

A bin belongs to whoever made it: the admin (``owner`` None, who also sees every bin) or one
application's token. What is live in this process (streams watching a bin, a connected
listener, senders waiting for the listener's answer) is the ``LiveHub``; the database stays
the truth, so streams and listeners in other processes catch up by polling it.
"""

import asyncio
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from hookline import metrics
from hookline.domain.captured import CapturedRequest, Headers
from hookline.domain.inspect import (
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TTL_SECONDS,
    PASSTHROUGH_SECONDS,
    Bin,
    BinResponse,
    Captured,
    OutboundResult,
    OverrideError,
    Overrides,
    Reply,
    Signature,
    configured_reply,
    forwardable_headers,
    new_token,
    parse_overrides,
)
from hookline.domain.throttle import take_one
from hookline.domain.urls import InvalidUrlError, check_endpoint_url
from hookline.errors import Invalid, NotFound
from hookline.receiver import PROVIDERS, WebhookVerificationError, verify
from hookline.services.context import Context, secret_box
from hookline.store import inspect as store
from hookline.store import ratelimits
from hookline.store.database import Conn, now_ms
from hookline.store.pagination import Page

REPLAY_TIMEOUT = 30.0
MAX_RATE_LIMIT = 100_000
PROVIDER_NAMES = frozenset(PROVIDERS)
_UNSET: Any = object()


class Outbound(Protocol):
    """Sends one request anywhere the SSRF guard allows (built by the composition root)."""

    async def send(self, method: str, url: str, headers: Headers, body: bytes, timeout: float) -> OutboundResult: ...


def bin_url(ctx: Context, bin_: Bin) -> str:
    return f"{ctx.settings.capture_base()}/i/{bin_.token}"


def _check_rate_limit(rate_limit: int | None) -> None:
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise Invalid(["body", "rateLimit"], f"rateLimit must be between 1 and {MAX_RATE_LIMIT}, or null")


def _check_provider(provider: str | None, secret: str | None) -> None:
    if provider is not None and provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise Invalid(["body", "verify", "provider"], f"unknown provider {provider!r}; known: {known}")
    if provider is not None and not secret:
        raise Invalid(["body", "verify", "secret"], "a provider needs the secret its signatures are made with")


async def create(
    ctx: Context,
    owner: str | None,
    *,
    name: str | None = None,
    response: BinResponse | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    verify_provider: str | None = None,
    verify_secret: str | None = None,
    rate_limit: int | None = None,
) -> Bin:
    if verify_secret and verify_provider is None:
        verify_provider = "standard-webhooks"
    _check_provider(verify_provider, verify_secret)
    _check_rate_limit(rate_limit)
    now = now_ms()
    values = {
        "token": new_token(),
        "app_id": owner,
        "name": name,
        "response": store.response_to_json(response or BinResponse()),
        "max_requests": max_requests,
        "expires_at": now + ttl_seconds * 1000,
        "verify_provider": verify_provider,
        "verify_secret": secret_box(ctx.settings).seal(verify_secret) if verify_secret else None,
        "rate_limit": rate_limit,
    }
    async with ctx.db.write() as conn:
        await store.purge_expired(conn, now)
        return await store.create(conn, values)


async def get(ctx: Context, owner: str | None, bin_id: str) -> Bin:
    async with ctx.db.read() as conn:
        return await store.get(conn, bin_id, owner=owner, now=now_ms())


async def page(ctx: Context, owner: str | None, *, limit: int, iterator: str | None, descending: bool) -> Page[Bin]:
    async with ctx.db.read() as conn:
        return await store.page(conn, owner=owner, now=now_ms(), limit=limit, iterator=iterator, descending=descending)


async def update(
    ctx: Context,
    owner: str | None,
    bin_id: str,
    *,
    name: str | None = _UNSET,
    response: BinResponse | None = None,
    max_requests: int | None = None,
    ttl_seconds: int | None = None,
    verify_provider: str | None = _UNSET,
    verify_secret: str | None = _UNSET,
    rate_limit: int | None = _UNSET,
) -> Bin:
    """Change what is given; ``None`` for name, verification or rate limit clears it."""
    async with ctx.db.write() as conn:
        current = await store.get(conn, bin_id, owner=owner, now=now_ms())
        values: dict[str, Any] = {}
        if rate_limit is not _UNSET:
            _check_rate_limit(rate_limit)
            values["rate_limit"] = rate_limit
        if name is not _UNSET:
            values["name"] = name
        if response is not None:
            values["response"] = store.response_to_json(response)
        if max_requests is not None:
            values["max_requests"] = max_requests
        if ttl_seconds is not None:
            values["expires_at"] = now_ms() + ttl_seconds * 1000
        if verify_provider is not _UNSET or verify_secret is not _UNSET:
            provider = current.verify_provider if verify_provider is _UNSET else verify_provider
            secret = verify_secret
            if secret is _UNSET:
                secret = secret_box(ctx.settings).open(current.verify_secret) if current.verify_secret else None
            if secret and provider is None and verify_provider is _UNSET:
                provider = "standard-webhooks"
            if provider is None:
                secret = None
            _check_provider(provider, secret)
            values["verify_provider"] = provider
            values["verify_secret"] = secret_box(ctx.settings).seal(secret) if secret else None
        await store.update_bin(conn, current.id, values)
        return await store.get(conn, current.id, owner=owner, now=now_ms())


async def remove(ctx: Context, owner: str | None, bin_id: str) -> None:
    async with ctx.db.write() as conn:
        current = await store.get(conn, bin_id, owner=owner, now=now_ms())
        await store.remove(conn, current.id)


async def requests_page(
    ctx: Context, owner: str | None, bin_id: str, *, limit: int, iterator: str | None, descending: bool
) -> Page[Captured]:
    async with ctx.db.read() as conn:
        current = await store.get(conn, bin_id, owner=owner, now=now_ms())
        return await store.requests_page(conn, current.id, limit=limit, iterator=iterator, descending=descending)


async def get_request(ctx: Context, owner: str | None, bin_id: str, request_id: str) -> Captured:
    async with ctx.db.read() as conn:
        current = await store.get(conn, bin_id, owner=owner, now=now_ms())
        return await store.get_request(conn, current.id, request_id)


async def delete_requests(ctx: Context, owner: str | None, bin_id: str, request_id: str | None = None) -> None:
    """Delete one captured request, or all of the bin's when ``request_id`` is None."""
    async with ctx.db.write() as conn:
        current = await store.get(conn, bin_id, owner=owner, now=now_ms())
        deleted = await store.delete_requests(conn, current.id, request_id)
    if request_id is not None and not deleted:
        raise NotFound("request")


# -- capturing -----------------------------------------------------------------------------


@dataclass
class _Listener:
    """This process's connected ``hookline listen`` for one bin."""

    replaced: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    """What is live in this process: watchers of each bin (SSE streams and listeners, woken
    when a request is stored), the connected listener of each bin, and senders awaiting it."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._listeners: dict[str, _Listener] = {}
        self._replies: dict[str, asyncio.Future[Reply | None]] = {}

    @contextmanager
    def watch(self, bin_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._watchers.setdefault(bin_id, set()).add(event)
        try:
            yield event
        finally:
            watchers = self._watchers.get(bin_id, set())
            watchers.discard(event)
            if not watchers:
                self._watchers.pop(bin_id, None)

    def notify(self, bin_id: str) -> None:
        for event in self._watchers.get(bin_id, ()):
            event.set()

    @contextmanager
    def listening(self, bin_id: str) -> Iterator[_Listener]:
        """Become the bin's listener here; an earlier one is told to go (``replaced``)."""
        previous = self._listeners.get(bin_id)
        if previous is not None:
            previous.replaced.set()
        mine = _Listener()
        self._listeners[bin_id] = mine
        try:
            yield mine
        finally:
            if self._listeners.get(bin_id) is mine:
                del self._listeners[bin_id]

    def has_listener(self, bin_id: str) -> bool:
        return bin_id in self._listeners

    def answer(self, request_id: str, reply: Reply | None) -> None:
        waiter = self._replies.get(request_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)

    @contextmanager
    def awaiting(self, request_id: str) -> Iterator["asyncio.Future[Reply | None]"]:
        waiter: asyncio.Future[Reply | None] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = waiter
        try:
            yield waiter
        finally:
            self._replies.pop(request_id, None)


def _signature(ctx: Context, bin_: Bin, request: CapturedRequest) -> Signature | None:
    if bin_.verify_provider is None:
        return None
    secret = secret_box(ctx.settings).open(bin_.verify_secret) if bin_.verify_secret else ""
    url = f"{bin_url(ctx, bin_)}{request.path}" + (f"?{request.query}" if request.query else "")
    try:
        verify(
            bin_.verify_provider,
            secret=secret,
            headers=request.headers,
            body=request.body,
            url=url,
            method=request.method,
        )
    except (WebhookVerificationError, ValueError) as exc:
        return Signature(bin_.verify_provider, False, str(exc) or type(exc).__name__)
    return Signature(bin_.verify_provider, True, None)


async def _rate_limited(conn: Conn, bin_: Bin) -> Reply | None:
    """A 429 (not captured) past the bin's rate limit, whose state every process shares."""
    if bin_.rate_limit is None:
        return None
    verdict = take_one(await ratelimits.lock_tat(conn, "bin", bin_.id), now_ms(), bin_.rate_limit)
    if verdict.retry_after_ms is None:
        await ratelimits.set_tat(conn, "bin", bin_.id, verdict.tat)
        return None
    metrics.inspect_rate_limited()
    wait = max(1, math.ceil(verdict.retry_after_ms / 1000))
    detail = f"more than {bin_.rate_limit} requests per second; retry in {wait} s (not captured)"
    body = json.dumps({"code": "rate_limited", "detail": detail}).encode()
    return Reply(429, (("Content-Type", "application/json"), ("Retry-After", str(wait))), body)


async def capture(ctx: Context, hub: LiveHub, token: str, request: CapturedRequest) -> Reply:
    """Record a request sent to ``/i/{token}`` and decide what its sender gets: the connected
    listener's answer if it comes within ``PASSTHROUGH_SECONDS``, else the bin's response."""
    refusal: Reply | None = None
    try:
        overrides = parse_overrides(request.query)
    except OverrideError as exc:
        # Still recorded, as every request is: the bin's owner sees what came and why it got a 422.
        overrides = Overrides()
        item = {"loc": ["query", exc.name], "msg": str(exc), "type": "value_error"}
        problem = {"code": "validation", "detail": [item]}
        refusal = Reply(422, (("Content-Type", "application/json"),), json.dumps(problem).encode())
    async with ctx.db.read() as conn:
        bin_ = await store.by_token(conn, token, now_ms())
    if bin_ is None:
        raise NotFound("bin")
    signature = _signature(ctx, bin_, request)
    # With no listener here the answer is the bin's, known now: stored with the request, in
    # one write. A listener's answer is stored once it comes (or the bin's, after the wait).
    configured = refusal or configured_reply(bin_.response, request, overrides)
    listened = refusal is None and hub.has_listener(bin_.id)
    async with ctx.db.write() as conn:
        limited = await _rate_limited(conn, bin_)
        if limited is not None:
            return limited
        status = None if listened else configured.status
        captured = await store.add_request(conn, bin_, request, signature, status)
    reply: Reply | None = None
    if listened and hub.has_listener(bin_.id):
        with hub.awaiting(captured.id) as waiter:
            hub.notify(bin_.id)
            try:
                reply = await asyncio.wait_for(waiter, PASSTHROUGH_SECONDS)
            except TimeoutError:
                reply = None
    else:
        hub.notify(bin_.id)
    if reply is None:
        reply = configured
    if listened:
        async with ctx.db.write() as conn:
            await store.set_response_status(conn, captured.id, reply.status)
    if reply.delay:
        await asyncio.sleep(reply.delay)
    return reply


async def requests_after(ctx: Context, bin_id: str, after: str | None, *, pending_only: bool) -> list[Captured]:
    async with ctx.db.read() as conn:
        return await store.requests_after(conn, bin_id, after, pending_only=pending_only, limit=100)


async def newest_request_id(ctx: Context, bin_id: str) -> str | None:
    async with ctx.db.read() as conn:
        return await store.newest_id(conn, bin_id)


async def acknowledge(ctx: Context, hub: LiveHub, request_id: str, reply: Reply | None) -> bool:
    """A listener handed the request on: record it (once), and pass its answer to a waiting
    sender. ``reply`` None: the local target gave no answer (the sender gets the bin's)."""
    async with ctx.db.write() as conn:
        first = await store.mark_forwarded(conn, request_id, now_ms())
    hub.answer(request_id, reply)
    return first


async def replay(
    ctx: Context, owner: str | None, bin_id: str, request_id: str, url: str, outbound: Outbound
) -> OutboundResult:
    """Send a captured request again, same method, headers and body, to ``url``."""
    try:
        check_endpoint_url(url)
    except InvalidUrlError as exc:
        raise Invalid(["body", "url"], f"url {exc}") from None
    if urlsplit(url).scheme not in ("http", "https"):
        raise Invalid(["body", "url"], "url must be http or https")
    captured = await get_request(ctx, owner, bin_id, request_id)
    request = captured.request
    return await outbound.send(request.method, url, forwardable_headers(request.headers), request.body, REPLAY_TIMEOUT)
